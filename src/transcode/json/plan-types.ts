import type { DescField, DescMessage, JsonValue } from "@bufbuild/protobuf";
import type { BinaryReader } from "@bufbuild/protobuf/wire";
import type { WireCursor } from "./wire-cursor.js";
import type { Preset } from "./json-binary.js";
import type { ProtoWriter, WireWriter } from "./wire-writer.js";

/**
 * The compiled JSON and binary handling of one message type, built once from its descriptor.
 *
 * Two shapes matter because ts-proto unwraps some well-known types in fields: a *message* value
 * is what ts-proto's `Foo.create`-style objects look like (a top-level `Struct` is
 * `{fields: Map}`), a *field* value is what sits in a property of another message (a `Struct`
 * field is a plain object, an `Int32Value` field a number). For most types they are the same.
 */
export interface MessagePlan {
  readonly typeName: string;
  readonly desc: DescMessage;
  /** Whether the JSON form is an object (regular messages, Empty, Any, Struct). */
  readonly jsonIsObject: boolean;
  /**
   * A well-known type with its own JSON form, which an Any holds under "value"
   * (`{"@type": ..., "value": "1.5s"}`) instead of inlining its fields.
   */
  readonly wellKnown: boolean;
  /** A complete ts-proto object of this type with every field at its default. */
  create(): Record<string, unknown>;
  /** proto3 JSON (not null) -> message value. `depth` is this message's nesting level (1 = root). */
  readJson(json: unknown, depth: number): unknown;
  writeJson(message: unknown, depth: number): JsonValue;
  /** proto3 JSON (not null) -> field value. */
  readField(json: unknown, depth: number): unknown;
  writeField(value: unknown, depth: number): JsonValue;
  /** The string form of a field value (path variables, query parameters), if the type has one. */
  readonly readFieldString: ((text: string) => unknown) | undefined;
  toMessage(fieldValue: unknown): unknown;
  toField(message: unknown): unknown;
  /** The fields of a regular message (empty for well-known types with a special JSON form). */
  readonly fields: readonly FieldPlan[];
  /** A field by proto name or JSON name. */
  field(name: string): FieldPlan | undefined;
  /** Reads the fields of an inlined Any payload (regular messages): "@type" is not a field there. */
  readAnyFields(json: Record<string, unknown>, depth: number): unknown;
  /**
   * Binary wire format of a message value (for google.protobuf.Any payloads). `depth` is the
   * message's level (default 1): an Any's payload continues the nesting count of the Any.
   */
  encode(message: unknown, depth?: number): Buffer;
  decode(bytes: Uint8Array, depth?: number): unknown;
  /** Appends the message's fields to `writer` (nested use; `depth` as for JSON). */
  encodeTo(message: unknown, writer: ProtoWriter, depth: number): void;
  /** Reads fields up to `end` into a new message value. */
  decodeFrom(reader: BinaryReader, end: number, depth: number): unknown;
  /**
   * The JSON text of the message at `c.pos` up to `end`, straight from its bytes (wire-json.ts):
   * the text `writeJson` gives for what `decodeFrom` reads, or BAIL when it cannot vouch for that.
   */
  writeWire(c: WireCursor, end: number, depth: number): string;
  /**
   * Writes the message whose proto3 JSON (not null) is `json` straight to `w` (json-binary.ts):
   * the bytes `encode` gives for what `readJson` reads, or a throw (BAIL or a reader's error)
   * when it cannot vouch for that. `preset`: see JsonBinary.
   */
  encodeJson(json: unknown, w: WireWriter, depth: number, preset: Preset | undefined): void;
}

/** How one field reads and writes, compiled. */
export interface FieldPlan {
  readonly desc: DescField;
  /** The ts-proto property: the field's json_name (ts-proto option useJsonName). */
  readonly prop: string;
  readonly jsonName: string;
  readonly protoName: string;
  readonly cardinality: "singular" | "list" | "map";
  /** The element codec (list elements, map values). */
  readonly element: ElementCodec;
  /** Map key parser/printer (maps only). */
  readonly mapKey: { readString(text: string): unknown; write(key: unknown): string } | undefined;
  /**
   * Singular fields that are `T | undefined` in ts-proto (messages, oneof members, proto3
   * `optional`): unset by default, printed whenever set. Others print only when not default.
   */
  readonly explicitPresence: boolean;
  /** Name of the real oneof this field belongs to. */
  readonly oneof: string | undefined;
  /** Non-null JSON -> field value, or SKIP to leave the field alone. */
  read(json: unknown, depth: number): unknown;
  write(value: unknown, depth: number): JsonValue;
  /** What JSON null sets the field to, or SKIP when null means "leave at default". */
  readonly nullValue: unknown;
}

/** One value of a field's type (a singular field, a list element, a map value). */
export interface ElementCodec {
  read(json: unknown, depth: number): unknown;
  write(value: unknown, depth: number): JsonValue;
  /** The string form (path/query), or undefined when the type has none (messages). */
  readonly readString: ((text: string) => unknown) | undefined;
  /** google.protobuf.Value and NullValue: null is a value (read() takes it), also inside lists and maps. */
  readonly acceptsNull: boolean;
  /** The default of a scalar or enum (undefined for messages). */
  readonly zero: unknown;
  isZero(value: unknown): boolean;
  /** The message type, for message-typed values. */
  readonly message: MessagePlan | undefined;
}

/** What a plan needs from the registry that owns it. */
export interface PlanContext {
  readonly ignoreUnknownFields: boolean;
  plan(desc: DescMessage): MessagePlan;
  /** The plan for a google.protobuf.Any type URL (`type.googleapis.com/pkg.Msg`), if known. */
  planForTypeUrl(typeUrl: string): MessagePlan | undefined;
}
