import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isOutputOnly, isRequired } from "./field-behavior.js";

/**
 * What the edge checks of one field: compiled once per message type from the descriptors, so a
 * request is checked by a walk over its bytes, never over descriptors.
 */
export interface FieldRule {
  readonly number: number;
  /** The JSON name, as clients write it and as violations name it. */
  readonly jsonName: string;
  readonly required: boolean;
  /** The field's index in MessageRules.required, -1 when it is not REQUIRED. */
  requiredIndex: number;
  readonly outputOnly: boolean;
  readonly cardinality: "singular" | "list" | "map";
  /**
   * Whether an occurrence on the wire sets the field whatever its value: messages, `optional` and
   * oneof members, list and map elements. Otherwise (proto3 implicit presence) a value equal to
   * the default (0, false, "", empty bytes, the zero enum) is missing, as if not sent.
   */
  readonly presence: boolean;
  /** A list of numbers, bools or enums: its elements may come packed (one length-delimited run, empty: no elements). */
  readonly packable: boolean;
  /** Rules of the message type of a message field (list elements and map values included), when it has any. */
  nested: MessageRules | undefined;
  /** A map's key type (violations name map entries by key). */
  readonly mapKey: ScalarType | undefined;
}

/** The rules of a message type: its fields with anything to check, by number. */
export interface MessageRules {
  readonly typeName: string;
  readonly fields: ReadonlyMap<number, FieldRule>;
  /** The REQUIRED fields, in declaration order. */
  readonly required: readonly FieldRule[];
}

/** The rules of request message types, built on first use and cached (recursive types included). */
export interface BehaviorPlans {
  /**
   * The rules of a request message, or undefined when it has nothing to check (no REQUIRED or
   * OUTPUT_ONLY field anywhere below it). A request message with a `google.protobuf.FieldMask`
   * field is a partial update (AIP-134): its own REQUIRED fields are checked, not those of the
   * resource it carries (the mask says which fields the update sets).
   */
  forRequest(message: DescMessage): MessageRules | undefined;
}

const FIELD_MASK = "google.protobuf.FieldMask";

export function createBehaviorPlans(): BehaviorPlans {
  // Two variants of each message type: with nested REQUIRED checks, and with OUTPUT_ONLY only.
  const full = new Map<string, MessageRules | undefined>();
  const outputOnly = new Map<string, MessageRules | undefined>();

  // Which message types have anything to check below them (a fixpoint: recursive types included).
  const matters = new Map<string, boolean>();
  const mattersFor = (root: DescMessage, withRequired: boolean): ((message: DescMessage) => boolean) => {
    const key = (message: DescMessage) => `${withRequired ? "r" : "o"}:${message.typeName}`;
    const reachable = new Set<DescMessage>();
    const queue = [root];
    while (queue.length > 0) {
      const next = queue.pop() as DescMessage;
      if (matters.has(key(next)) || reachable.has(next)) continue;
      reachable.add(next);
      for (const field of next.fields) {
        const type = messageOf(field);
        if (type !== undefined) queue.push(type);
      }
    }
    const direct = (message: DescMessage) => message.fields.some((f) => isOutputOnly(f) || (withRequired && isRequired(f)));
    const known = new Map([...reachable].map((message) => [message, direct(message)]));
    for (let changed = true; changed; ) {
      changed = false;
      for (const message of reachable) {
        if (known.get(message)) continue;
        const below = message.fields.some((f) => {
          const type = messageOf(f);
          return type !== undefined && (known.get(type) ?? matters.get(key(type)) ?? false);
        });
        if (below) {
          known.set(message, true);
          changed = true;
        }
      }
    }
    for (const [message, value] of known) matters.set(key(message), value);
    return (message) => matters.get(key(message)) ?? false;
  };

  const build = (message: DescMessage, withRequired: boolean): MessageRules | undefined => {
    const cache = withRequired ? full : outputOnly;
    if (cache.has(message.typeName)) return cache.get(message.typeName);
    const relevant = mattersFor(message, withRequired);
    if (!relevant(message)) {
      cache.set(message.typeName, undefined);
      return undefined;
    }
    const fields = new Map<number, FieldRule>();
    const required: FieldRule[] = [];
    const rules: MessageRules = { typeName: message.typeName, fields, required };
    // Registered before the nested types are built: a recursive type finds itself.
    cache.set(message.typeName, rules);
    for (const field of message.fields) {
      const rule = fieldRule(field, withRequired);
      const type = messageOf(field);
      if (type !== undefined && relevant(type)) rule.nested = build(type, withRequired);
      if (rule.required || rule.outputOnly || rule.nested !== undefined) fields.set(rule.number, rule);
      if (rule.required) {
        rule.requiredIndex = required.length;
        required.push(rule);
      }
    }
    return rules;
  };

  return {
    forRequest(message) {
      const partialUpdate = message.fields.some((f) => f.fieldKind === "message" && f.message.typeName === FIELD_MASK);
      if (!partialUpdate) return build(message, true);
      // The root's own REQUIRED fields, the nested messages' OUTPUT_ONLY fields.
      const fields = new Map<number, FieldRule>();
      const required: FieldRule[] = [];
      for (const field of message.fields) {
        const rule = fieldRule(field, true);
        const type = messageOf(field);
        if (type !== undefined) rule.nested = build(type, false);
        if (rule.required || rule.outputOnly || rule.nested !== undefined) fields.set(rule.number, rule);
        if (rule.required) {
          rule.requiredIndex = required.length;
          required.push(rule);
        }
      }
      return fields.size === 0 ? undefined : { typeName: message.typeName, fields, required };
    },
  };
}

function fieldRule(field: DescField, withRequired: boolean): FieldRule {
  const cardinality = field.fieldKind === "list" ? "list" : field.fieldKind === "map" ? "map" : "singular";
  const presence = cardinality !== "singular" || field.fieldKind === "message" || field.presence !== FeatureSet_FieldPresence.IMPLICIT;
  return {
    number: field.number,
    jsonName: field.jsonName,
    required: withRequired && isRequired(field),
    requiredIndex: -1,
    outputOnly: isOutputOnly(field),
    cardinality,
    presence,
    packable: field.fieldKind === "list" && (field.listKind === "enum" || (field.listKind === "scalar" && field.scalar !== ScalarType.STRING && field.scalar !== ScalarType.BYTES)),
    nested: undefined,
    mapKey: field.fieldKind === "map" ? field.mapKey : undefined,
  };
}

/** The message type of a field's values (singular, list elements, map values), if they are messages. */
function messageOf(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  if (field.fieldKind === "map" && field.mapKind === "message") return field.message;
  return undefined;
}
