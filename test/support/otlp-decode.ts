import protobuf from "protobufjs";

/*
 * A reference decoder for OTLP trace exports, independent of the gateway's encoder: protobufjs
 * reading the messages' schema, written here from opentelemetry/proto (collector/trace/v1,
 * trace/v1, common/v1, resource/v1; only the fields the gateway writes or could write, with their
 * official numbers and types).
 */
const SCHEMA = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; bytes bytes_value = 7; }
}
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  Status status = 15;
}
`;

const ExportTraceServiceRequest = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType("otlp.ExportTraceServiceRequest");

/** One exported span, flattened for assertions. */
export interface DecodedSpan {
  readonly service: string | undefined;
  readonly scope: { readonly name: string; readonly version: string };
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string;
  readonly flags: number;
  readonly name: string;
  /** OTLP SpanKind: 2 server, 3 client. */
  readonly kind: number;
  /** Unix time in ns, as bigint (fixed64). */
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly statusMessage: string;
}

interface Long {
  toString(): string;
}
interface PlainValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: Long | number;
  double_value?: number;
}
interface PlainKeyValue {
  key: string;
  value?: PlainValue;
}
interface PlainSpan {
  trace_id: Uint8Array;
  span_id: Uint8Array;
  parent_span_id: Uint8Array;
  trace_state: string;
  flags: number;
  name: string;
  kind: number;
  start_time_unix_nano: Long | number;
  end_time_unix_nano: Long | number;
  attributes?: PlainKeyValue[];
  status?: { code?: number; message?: string };
}
interface PlainRequest {
  resource_spans?: Array<{ resource?: { attributes?: PlainKeyValue[] }; scope_spans?: Array<{ scope?: { name?: string; version?: string }; spans?: PlainSpan[] }> }>;
}

/** The attributes as an object (built with fromEntries, so that a key such as `__proto__` is an own property). */
function attributesOf(list: PlainKeyValue[] | undefined): Record<string, string | number | boolean> {
  const entries: Array<[string, string | number | boolean]> = [];
  for (const { key, value } of list ?? []) {
    if (value?.string_value !== undefined) entries.push([key, value.string_value]);
    else if (value?.int_value !== undefined) entries.push([key, Number(value.int_value.toString())]);
    else if (value?.bool_value !== undefined) entries.push([key, value.bool_value]);
    else if (value?.double_value !== undefined) entries.push([key, value.double_value]);
  }
  return Object.fromEntries(entries);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** Every span of an OTLP/HTTP protobuf trace export body. */
export function decodeTraceExport(body: Uint8Array): DecodedSpan[] {
  const request = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { defaults: true, longs: String, bytes: Array }) as PlainRequest;
  const spans: DecodedSpan[] = [];
  for (const resourceSpans of request.resource_spans ?? []) {
    const service = attributesOf(resourceSpans.resource?.attributes)["service.name"];
    for (const scopeSpans of resourceSpans.scope_spans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          service: typeof service === "string" ? service : undefined,
          scope: { name: scopeSpans.scope?.name ?? "", version: scopeSpans.scope?.version ?? "" },
          traceId: hex(Uint8Array.from(span.trace_id)),
          spanId: hex(Uint8Array.from(span.span_id)),
          parentSpanId: span.parent_span_id.length === 0 ? undefined : hex(Uint8Array.from(span.parent_span_id)),
          traceState: span.trace_state,
          flags: span.flags,
          name: span.name,
          kind: span.kind,
          startTimeUnixNano: BigInt(span.start_time_unix_nano.toString()),
          endTimeUnixNano: BigInt(span.end_time_unix_nano.toString()),
          attributes: attributesOf(span.attributes),
          statusCode: span.status?.code ?? 0,
          statusMessage: span.status?.message ?? "",
        });
      }
    }
  }
  return spans;
}
