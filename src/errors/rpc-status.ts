import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { RawAny } from "./any-detail.js";

/** A decoded `google.rpc.Status` with its details left as binary `Any` values. */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
  readonly details: readonly RawAny[];
}

// google/rpc/status.proto: Status {1: int32 code, 2: string message, 3: repeated Any details};
// google/protobuf/any.proto: Any {1: string type_url, 2: bytes value}.

/**
 * Decodes the binary `google.rpc.Status` of a `grpc-status-details-bin` trailer. Unknown fields
 * are skipped; throws on malformed input (truncated, bad wire type, invalid UTF-8).
 */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const reader = new BinaryReader(bytes);
  let code = 0;
  let message = "";
  const details: RawAny[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) code = reader.int32();
    else if (field === 2 && wireType === WireType.LengthDelimited) message = reader.string(true);
    else if (field === 3 && wireType === WireType.LengthDelimited) details.push(decodeAny(reader.bytes()));
    else reader.skip(wireType, field);
  }
  return { code, message, details };
}

function decodeAny(bytes: Uint8Array): RawAny {
  const reader = new BinaryReader(bytes);
  let typeUrl = "";
  let value: Uint8Array = new Uint8Array(0);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) typeUrl = reader.string(true);
    else if (field === 2 && wireType === WireType.LengthDelimited) value = reader.bytes();
    else reader.skip(wireType, field);
  }
  return { typeUrl, value };
}

/** Encodes a `google.rpc.Status` (e.g. for a `grpc-status-details-bin` trailer). */
export function encodeRpcStatus(status: RpcStatus): Uint8Array {
  const writer = new BinaryWriter();
  if (status.code !== 0) writer.tag(1, WireType.Varint).int32(status.code);
  if (status.message !== "") writer.tag(2, WireType.LengthDelimited).string(status.message);
  for (const detail of status.details) {
    writer.tag(3, WireType.LengthDelimited).fork();
    if (detail.typeUrl !== "") writer.tag(1, WireType.LengthDelimited).string(detail.typeUrl);
    if (detail.value.length > 0) writer.tag(2, WireType.LengthDelimited).bytes(detail.value);
    writer.join();
  }
  return writer.finish();
}
