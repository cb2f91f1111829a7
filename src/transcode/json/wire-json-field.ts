import type { FieldPlan, MessagePlan } from "./plan-types.js";
import { WIRE_LENGTH_DELIMITED, WireCursor } from "./wire-cursor.js";
import { fieldWire, NO_VALUE, type PlanOf } from "./wire-json.js";

/**
 * The direct writer of `response_body`: the JSON of the field at the end of `path` (every other
 * field a singular regular message, see field-path.ts), straight from the reply's bytes, as the
 * response shaper prints it from the decoded message: a scalar even at its default, an unset
 * list `[]`, an unset map `{}`, an unset message (or a parent unset on the way) `{}` or `null`
 * (`unsetMessage`: `{}` when the message's JSON is an object).
 *
 * The whole reply is written first and the text dropped: the object path decodes all of it, so
 * bytes it would reject anywhere must bail here too. Throws BAIL like plan.writeWire.
 */
export function compileFieldWireJson(root: MessagePlan, path: readonly FieldPlan[], unsetMessage: string, planOf: PlanOf): (bytes: Uint8Array) => string {
  const leafPlan = path[path.length - 1];
  const unset = leafPlan.cardinality === "list" ? "[]" : leafPlan.cardinality === "map" ? "{}" : unsetMessage;
  const leaf = fieldWire(leafPlan.desc, planOf);
  const tags = path.slice(0, -1).map((f) => f.desc.number * 8 + WIRE_LENGTH_DELIMITED);
  const leafTag = leaf.number * 8 + leaf.wireType;
  const packedTag = leaf.packable ? leaf.number * 8 + WIRE_LENGTH_DELIMITED : -1;
  // An implicit-presence scalar that is absent holds its default, which prints.
  const absent = leafPlan.cardinality === "singular" && !leafPlan.explicitPresence && leaf.zeroText !== undefined ? leaf.zeroText : unset;

  return (bytes) => {
    const c = new WireCursor(bytes);
    root.writeWire(c, c.length, 1);
    let start = 0;
    let end = c.length;
    // Down the path: the last occurrence of each message field (the one the object path keeps).
    for (const tag of tags) {
      c.pos = start;
      let found = -1;
      let stop = 0;
      while (c.pos < end) {
        const t = c.tag(end);
        if (t === tag) {
          stop = c.lengthEnd(end);
          found = c.pos;
          c.pos = stop;
        } else c.skip(t, end);
      }
      if (found < 0) return unset;
      start = found;
      end = stop;
    }
    const depth = path.length;
    c.pos = start;
    if (leafPlan.cardinality === "map") {
      let entries: Map<unknown, string> | undefined;
      while (c.pos < end) {
        const t = c.tag(end);
        if (t === leafTag) leaf.entry!(c, end, depth, (entries ??= new Map()));
        else c.skip(t, end);
      }
      return entries === undefined ? "{}" : leaf.mapJson!(entries);
    }
    if (leafPlan.cardinality === "list") {
      let out = "";
      while (c.pos < end) {
        const t = c.tag(end);
        if (t === leafTag) out = join(out, leaf.value(c, end, depth));
        else if (t === packedTag) {
          const stop = c.lengthEnd(end);
          while (c.pos < stop) out = join(out, leaf.value(c, stop, depth));
        } else c.skip(t, end);
      }
      return `[${out}]`;
    }
    let text: string | undefined;
    while (c.pos < end) {
      const t = c.tag(end);
      if (t === leafTag) text = leaf.single(c, end, depth);
      else c.skip(t, end);
    }
    return text === undefined ? absent : text === NO_VALUE ? unset : text;
  };
}

function join(list: string, item: string): string {
  return list === "" ? item : `${list},${item}`;
}
