import { credentials, Metadata, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { ChatServiceClient } from "../../../generated/demo/v1/chat.js";
import { OrderServiceClient } from "../../../generated/demo/v1/order.js";
import { PaymentServiceClient } from "../../../generated/demo/v1/payment.js";
import { RecommendationServiceClient } from "../../../generated/demo/v1/recommendation.js";
import { UserServiceClient } from "../../../generated/demo/v1/user.js";
import { decodeRpcStatus, type RpcStatus } from "../../../src/errors/rpc-status.js";
import { startDemoBackends, type DemoBackends } from "../../../src/demo/index.js";
import type { FieldViolation } from "../../../src/demo/rpc-error.js";

/** A started demo server and ts-proto clients connected to it. */
export interface DemoHarness {
  readonly backends: DemoBackends;
  readonly users: UserServiceClient;
  readonly orders: OrderServiceClient;
  readonly payments: PaymentServiceClient;
  readonly chat: ChatServiceClient;
  readonly recommendations: RecommendationServiceClient;
  close(): Promise<void>;
}

/** A fixed clock for create times. */
export const FIXED_NOW = new Date("2027-03-04T05:06:07.890Z");

/** Starts the demo on 127.0.0.1:0 with a fixed clock. */
export async function startDemoHarness(): Promise<DemoHarness> {
  const backends = await startDemoBackends({ host: "127.0.0.1", port: 0, now: () => FIXED_NOW });
  const insecure = credentials.createInsecure();
  const users = new UserServiceClient(backends.address, insecure);
  const orders = new OrderServiceClient(backends.address, insecure);
  const payments = new PaymentServiceClient(backends.address, insecure);
  const chat = new ChatServiceClient(backends.address, insecure);
  const recommendations = new RecommendationServiceClient(backends.address, insecure);
  return {
    backends,
    users,
    orders,
    payments,
    chat,
    recommendations,
    async close() {
      users.close();
      orders.close();
      payments.close();
      chat.close();
      recommendations.close();
      await backends.close();
    },
  };
}

type Invoke<Res> = (metadata: Metadata, callback: (error: ServiceError | null, response: Res) => void) => ClientUnaryCall;

/** Everything a unary call produced. */
export interface CallOutcome<Res> {
  readonly response: Res | undefined;
  readonly error: ServiceError | undefined;
  readonly header: Metadata;
  readonly trailer: Metadata;
}

/** Runs a unary call and collects its response or error, header metadata and trailers. */
export function callUnary<Res>(invoke: Invoke<Res>, metadata = new Metadata()): Promise<CallOutcome<Res>> {
  return new Promise((resolve) => {
    let header = new Metadata();
    let outcome: { response: Res | undefined; error: ServiceError | undefined } | undefined;
    let trailer: Metadata | undefined;
    const finish = () => {
      if (outcome && trailer) resolve({ ...outcome, header, trailer });
    };
    const call = invoke(metadata, (error, response) => {
      outcome = error ? { response: undefined, error } : { response, error: undefined };
      finish();
    });
    call.on("metadata", (received: Metadata) => (header = received));
    call.on("status", (status: { metadata: Metadata }) => {
      trailer = status.metadata;
      finish();
    });
  });
}

/** The response of a call that must succeed. */
export async function ok<Res>(invoke: Invoke<Res>): Promise<Res> {
  const outcome = await callUnary(invoke);
  if (outcome.error) throw new Error(`expected success, got ${outcome.error.code}: ${outcome.error.details}`);
  return outcome.response as Res;
}

/** The error of a call that must fail. */
export async function fail<Res>(invoke: Invoke<Res>): Promise<ServiceError> {
  const outcome = await callUnary(invoke);
  if (!outcome.error) throw new Error(`expected an error, got ${JSON.stringify(outcome.response)}`);
  return outcome.error;
}

/** The decoded `grpc-status-details-bin` of an error, or undefined when it has none. */
export function statusDetails(error: ServiceError): RpcStatus | undefined {
  const [bytes] = error.metadata.get("grpc-status-details-bin");
  return bytes instanceof Buffer ? decodeRpcStatus(bytes) : undefined;
}

/** Decodes a `google.rpc.BadRequest` value into its field violations. */
export function decodeBadRequest(bytes: Uint8Array): FieldViolation[] {
  const reader = new BinaryReader(bytes);
  const violations: FieldViolation[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== 1 || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, field);
      continue;
    }
    const inner = new BinaryReader(reader.bytes());
    let name = "";
    let description = "";
    while (inner.pos < inner.len) {
      const [innerField, innerType] = inner.tag();
      if (innerField === 1 && innerType === WireType.LengthDelimited) name = inner.string();
      else if (innerField === 2 && innerType === WireType.LengthDelimited) description = inner.string();
      else inner.skip(innerType, innerField);
    }
    violations.push({ field: name, description });
  }
  return violations;
}

/** The field violations an INVALID_ARGUMENT error carries in its BadRequest detail. */
export function violationsOf(error: ServiceError): FieldViolation[] {
  const details = statusDetails(error);
  if (!details) throw new Error(`error ${error.code} "${error.details}" has no grpc-status-details-bin`);
  const badRequest = details.details.find((detail) => detail.typeUrl === "type.googleapis.com/google.rpc.BadRequest");
  if (!badRequest) throw new Error(`no BadRequest detail in ${JSON.stringify(details.details.map((d) => d.typeUrl))}`);
  return decodeBadRequest(badRequest.value);
}

/** The fields named by an error's violations. */
export function violatedFields(error: ServiceError): string[] {
  return violationsOf(error).map((violation) => violation.field);
}
