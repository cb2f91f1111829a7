import type { Binding, BodySelector, MessageFns } from "../../src/binding.js";
import type { PathTemplate } from "../../src/routing/template.js";

/** Test helper: a Binding built by hand (what codegen would emit for one HttpRule). */
export interface BindingSpec {
  readonly requestType: string;
  readonly responseType?: string;
  readonly pattern?: string;
  /** Path variables as proto field paths, e.g. ["user.user_id"]. */
  readonly variables?: readonly string[];
  readonly body?: BodySelector;
  readonly responseBody?: string;
  readonly httpMethod?: string;
}

const noCodec: MessageFns<unknown> = {
  encode: () => {
    throw new Error("not used by the request builder");
  },
  decode: () => {
    throw new Error("not used by the request builder");
  },
};

export function makeBinding(spec: BindingSpec): Binding<unknown, unknown> {
  const variables = spec.variables ?? [];
  const template: PathTemplate = {
    segments: [{ kind: "literal", value: "v1" }, ...variables.map(() => ({ kind: "wildcard" as const }))],
    variables: variables.map((v, i) => ({ fieldPath: v.split("."), start: i + 1, end: i + 2 })),
    verb: null,
  };
  return {
    service: "test.v1.TestService",
    method: "Test",
    rpcPath: "/test.v1.TestService/Test",
    kind: "unary",
    httpMethod: spec.httpMethod ?? "POST",
    pattern: spec.pattern ?? `/v1/${variables.map((v) => `{${v}}`).join("/")}`,
    template,
    body: spec.body ?? { kind: "none" },
    responseBody: spec.responseBody ? spec.responseBody.split(".") : [],
    requestType: spec.requestType,
    responseType: spec.responseType ?? spec.requestType,
    requestCodec: noCodec,
    responseCodec: noCodec,
    source: "test.proto:1",
    auth: null,
  };
}

/** A body field selector from "a.b". */
export function bodyField(path: string): BodySelector {
  return { kind: "field", fieldPath: path.split(".") };
}
