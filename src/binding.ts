import type { PathTemplate } from "./routing/template.js";

/** The binary codec of one message type, as ts-proto generates it (`Foo.encode`, `Foo.decode`). */
export interface MessageFns<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/**
 * The version of the route-table format codegen writes (`routeTableFormat` in the generated
 * `index.ts`). The runtime refuses a folder of another format with a message to regenerate, rather
 * than misread it. 2: bindings carry `kind`. 3: JavaScript plus `.d.ts`, rows without codecs
 * (`GeneratedRoute`; the runtime builds the codecs from the descriptor set). 4: rows carry `success`
 * (a method's `(protogate.v1.success)`: 201, 202 or 204, and a Location), which a runtime of
 * format 3 would ignore and answer 200.
 */
export const ROUTE_TABLE_FORMAT = 4;

/** The RPC's streaming shape: unary, server streaming, client streaming, or bidirectional. */
export type MethodKind = "unary" | "server" | "client" | "bidi";

/** How the HTTP request body maps onto the request message (`HttpRule.body`). */
export type BodySelector =
  /** No body: every field not bound by the path is a query parameter. */
  | { readonly kind: "none" }
  /** `body: "*"`: the body is the whole request message (minus path-bound fields). */
  | { readonly kind: "all" }
  /** `body: "a.b"`: the body is this field; the rest may come from the query. */
  | { readonly kind: "field"; readonly fieldPath: readonly string[] };

/**
 * The access rule declared in the proto (`option (protogate.v1.rule)`, or the service's
 * `(protogate.v1.default_rule)`), as codegen carries it into the route table.
 */
export interface AuthRuleData {
  /** Anyone may call the method, without credentials (never together with `scopes`). */
  readonly public: boolean;
  /** Scopes the caller must all hold, as declared; empty for any authenticated caller. */
  readonly scopes: readonly string[];
  /** Pass the client's raw `Authorization` header on to the upstream. */
  readonly forwardAuthorization: boolean;
}

/** A piece of a `Location` template: literal text, or a string field of the response (proto field names from the root). */
export type LocationPart = { readonly text: string } | { readonly field: readonly string[] };

/**
 * A method's `(protogate.v1.success)` as codegen carries it into the route table: the status of a
 * successful call other than 200, and for 201 the `Location` header built from the response.
 */
export interface SuccessData {
  readonly status: 201 | 202 | 204;
  /** 201 only: the header's text, in parts; absent: no Location header. */
  readonly location?: readonly LocationPart[];
}

/**
 * One REST binding of one RPC: a row of the generated route table. Codegen emits these as
 * data (plus references to ts-proto's message codecs), so the gateway never parses a template
 * or an HttpRule at run time.
 */
export interface Binding<Req = unknown, Res = unknown> {
  /** Fully qualified service name, e.g. `demo.v1.UserService`. */
  readonly service: string;
  /** RPC name, e.g. `GetUser`. */
  readonly method: string;
  /** gRPC path, e.g. `/demo.v1.UserService/GetUser`. */
  readonly rpcPath: string;
  readonly kind: MethodKind;
  /** Upper-case HTTP method (`GET`, ... or a `custom` kind). */
  readonly httpMethod: string;
  /** The path template as written in the proto, for logs, OpenAPI and errors. */
  readonly pattern: string;
  readonly template: PathTemplate;
  readonly body: BodySelector;
  /** `HttpRule.response_body` as a field path; empty for the whole response message. */
  readonly responseBody: readonly string[];
  /** Fully qualified request and response message type names. */
  readonly requestType: string;
  readonly responseType: string;
  readonly requestCodec: MessageFns<Req>;
  readonly responseCodec: MessageFns<Res>;
  /** `file:line` of the rule, so runtime errors and conflicts point at the proto. */
  readonly source: string;
  /** The proto's access rule; null when the proto declares none (an authenticated caller is then required). */
  readonly auth: AuthRuleData | null;
  /**
   * Services whose configured upstream serves this binding when `service` itself has none
   * configured (the first configured one wins). Set on the `google.longrunning.Operations` routes
   * codegen adds for an API: its operations live on the backend of the services that return them.
   * Absent: `service` only.
   */
  readonly upstreamServices?: readonly string[];
  /**
   * The method's `option idempotency_level` when the proto declares one: calls of it may be sent
   * again after an UNAVAILABLE (see the upstream's `retries`), as those of a GET binding may.
   * Absent: not declared (and in folders generated before it was carried).
   */
  readonly idempotency?: IdempotencyLevel;
  /** The method's `(protogate.v1.success)`; absent: 200 with the response (or its `response_body`) as JSON. */
  readonly success?: SuccessData;
}

/** `google.protobuf.MethodOptions.IdempotencyLevel`, as the route table names a declared one. */
export type IdempotencyLevel = "NO_SIDE_EFFECTS" | "IDEMPOTENT";

/**
 * A row of a generated route table: a binding without its codecs, which the runtime builds from
 * the folder's descriptor set by `requestType` and `responseType` (src/load-generated.ts).
 */
export type GeneratedRoute = Omit<Binding, "requestCodec" | "responseCodec">;

/** Any binding, whatever its message types (the route table is heterogeneous). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- boundary: the table mixes message types.
export type AnyBinding = Binding<any, any>;
