import { Metadata, status } from "@grpc/grpc-js";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** One `google.rpc.BadRequest.FieldViolation`: a request field path and what is wrong with it. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export const BAD_REQUEST_TYPE_URL = "type.googleapis.com/google.rpc.BadRequest";

/**
 * A gRPC error a demo handler throws; the unary wrapper turns it into the call's status, with the
 * binary `google.rpc.Status` in `grpc-status-details-bin` when it carries field violations.
 */
export class DemoRpcError extends Error {
  readonly code: status;
  readonly violations: readonly FieldViolation[];

  constructor(code: status, message: string, violations: readonly FieldViolation[] = []) {
    super(message);
    this.name = "DemoRpcError";
    this.code = code;
    this.violations = violations;
  }

  /** The trailers of this error: `grpc-status-details-bin` when there are violations. */
  toMetadata(): Metadata {
    const metadata = new Metadata();
    if (this.violations.length > 0) {
      metadata.set("grpc-status-details-bin", Buffer.from(encodeBadRequestStatus(this.code, this.message, this.violations)));
    }
    return metadata;
  }
}

/** NOT_FOUND for a resource that does not exist. */
export function notFound(message: string): DemoRpcError {
  return new DemoRpcError(status.NOT_FOUND, message);
}

/** INVALID_ARGUMENT with a `google.rpc.BadRequest` detail listing every violation. */
export function invalidArgument(violations: readonly FieldViolation[]): DemoRpcError {
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new DemoRpcError(status.INVALID_ARGUMENT, `invalid request: ${summary}`, violations);
}

/** Throws INVALID_ARGUMENT when `violations` is not empty. */
export function assertNoViolations(violations: readonly FieldViolation[]): void {
  if (violations.length > 0) throw invalidArgument(violations);
}

/** ALREADY_EXISTS for a duplicate. */
export function alreadyExists(message: string): DemoRpcError {
  return new DemoRpcError(status.ALREADY_EXISTS, message);
}

/** RESOURCE_EXHAUSTED: a bounded resource (a buffer, a history) ran out. */
export function resourceExhausted(message: string): DemoRpcError {
  return new DemoRpcError(status.RESOURCE_EXHAUSTED, message);
}

/** FAILED_PRECONDITION: the request is valid but the resource is in the wrong state. */
export function failedPrecondition(message: string): DemoRpcError {
  return new DemoRpcError(status.FAILED_PRECONDITION, message);
}

// google.rpc.Status {1 int32 code, 2 string message, 3 repeated Any details}; Any {1 string
// type_url, 2 bytes value}; BadRequest {1 repeated FieldViolation {1 string field, 2 string description}}.

/** Encodes `google.rpc.Status` holding one `google.rpc.BadRequest` detail. */
export function encodeBadRequestStatus(code: number, message: string, violations: readonly FieldViolation[]): Uint8Array {
  const badRequest = new BinaryWriter();
  for (const violation of violations) {
    badRequest.tag(1, WireType.LengthDelimited).fork();
    badRequest.tag(1, WireType.LengthDelimited).string(violation.field);
    badRequest.tag(2, WireType.LengthDelimited).string(violation.description);
    badRequest.join();
  }
  const writer = new BinaryWriter();
  writer.tag(1, WireType.Varint).int32(code);
  writer.tag(2, WireType.LengthDelimited).string(message);
  writer.tag(3, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.LengthDelimited).string(BAD_REQUEST_TYPE_URL);
  writer.tag(2, WireType.LengthDelimited).bytes(badRequest.finish());
  writer.join();
  return writer.finish();
}
