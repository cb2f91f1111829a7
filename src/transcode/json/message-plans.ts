import type { DescMessage } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { compileBinary, type BinaryPlan } from "./binary-plan.js";
import type { MessagePlan, PlanContext } from "./plan-types.js";
import { compileRegular } from "./regular-plan.js";
import { compileRegularJsonBinary, compileSpecialJsonBinary, type JsonBinary } from "./json-binary.js";
import { compileRegularWireJson, type WireJson } from "./wire-json.js";
import { wellKnownWireJson } from "./wire-json-wkt.js";
import { wellKnownJson } from "./wkt-plans.js";

const identity = (v: unknown): unknown => v;

/**
 * A cache of compiled plans, one per message type, built on first use. A type that refers to
 * itself (directly or not) gets the plan object that is still being filled in; its closures
 * only call into it at run time, when it is complete.
 */
export function createPlanCache(
  ignoreUnknownFields: boolean,
  lookup: (typeName: string) => DescMessage | undefined,
): PlanContext {
  const plans = new Map<string, MessagePlan>();

  const ctx: PlanContext = {
    ignoreUnknownFields,
    plan(desc) {
      const cached = plans.get(desc.typeName);
      if (cached !== undefined) return cached;
      const plan = { typeName: desc.typeName, desc } as MessagePlan;
      plans.set(desc.typeName, plan);
      Object.assign(plan, compile(desc, ctx, plan));
      return plan;
    },
    planForTypeUrl(typeUrl) {
      const desc = lookup(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
      return desc === undefined ? undefined : ctx.plan(desc);
    },
  };
  return ctx;
}

function compile(desc: DescMessage, ctx: PlanContext, self: MessagePlan): Omit<MessagePlan, "typeName" | "desc"> {
  const regular = compileRegular(desc, ctx);
  const special = wellKnownJson(desc, ctx, regular.create);

  let binary: BinaryPlan | undefined;
  const wire = (): BinaryPlan => (binary ??= compileBinary(desc, ctx, regular.create));

  return {
    jsonIsObject: special?.jsonIsObject ?? true,
    wellKnown: special?.wellKnown ?? false,
    create: regular.create,
    readJson: special?.readJson ?? regular.readJson,
    writeJson: special?.writeJson ?? regular.writeJson,
    readField: special?.readField ?? regular.readJson,
    writeField: special?.writeField ?? regular.writeJson,
    readFieldString: special?.readFieldString,
    toMessage: special?.toMessage ?? identity,
    toField: special?.toField ?? identity,
    fields: special === undefined ? regular.fields : [],
    field: special === undefined ? regular.field : () => undefined,
    readAnyFields: regular.readAnyFields,
    encodeTo: (message, writer, depth) => wire().encodeTo(message, writer, depth),
    decodeFrom: (reader, end, depth) => wire().decodeFrom(reader, end, depth),
    // Compiled on first use, which replaces this method: later calls go straight to the writer.
    writeWire(c, end, depth) {
      const write: WireJson = wellKnownWireJson(desc, ctx) ?? compileRegularWireJson(desc, ctx);
      (self as { writeWire: WireJson }).writeWire = write;
      return write(c, end, depth);
    },
    // Likewise compiled on first use.
    encodeJson(json, w, depth, preset) {
      const encode: JsonBinary = special !== undefined ? compileSpecialJsonBinary(self) : compileRegularJsonBinary(desc, regular.fields, ctx);
      (self as { encodeJson: JsonBinary }).encodeJson = encode;
      encode(json, w, depth, preset);
    },
    encode(message, depth = 1) {
      const writer = new BinaryWriter();
      self.encodeTo(message, writer, depth);
      const bytes = writer.finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode(bytes, depth = 1) {
      const reader = new BinaryReader(bytes);
      return self.decodeFrom(reader, reader.len, depth);
    },
  };
}
