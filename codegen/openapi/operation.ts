import type { DescService } from "@bufbuild/protobuf";
import type { CodegenBinding } from "../model.js";
import { errorResponse, requestBody, successResponse } from "./bodies.js";
import { commentOf, summaryAndDescription } from "./comments.js";
import type { OpenApiOperation } from "./openapi-types.js";
import type { OpenApiPathParts } from "./openapi-path.js";
import { fixedFieldNotes, pathParameters } from "./path-parameters.js";
import { queryParameters } from "./query-parameters.js";
import type { SchemaRegistry } from "./schema-registry.js";
import { authResponses, operationSecurity } from "./security.js";
import { streamedRequestBody, streamedResponse, streamingNote, streamsRequests, streamsResponses } from "./streaming.js";

/** How services are named in tags and operationIds. */
export interface ServiceNames {
  /** The tag: the service's simple name, or its full name when two services share the simple name. */
  tag(service: DescService): string;
  /** A unique operationId: `Service_Method`, `_N` for additional binding N. */
  operationId(binding: CodegenBinding): string;
}

/** Names the services of `bindings` (which must be in a stable order, for stable ids). */
export function createServiceNames(bindings: readonly CodegenBinding[]): ServiceNames {
  const byName = new Map<string, Set<string>>();
  for (const { rpc } of bindings) {
    const names = byName.get(rpc.parent.name) ?? new Set<string>();
    names.add(rpc.parent.typeName);
    byName.set(rpc.parent.name, names);
  }
  const tag = (service: DescService): string => ((byName.get(service.name)?.size ?? 0) > 1 ? service.typeName : service.name);
  const used = new Set<string>();
  const ids = new Map<CodegenBinding, string>();
  for (const binding of bindings) {
    const base = `${tag(binding.rpc.parent).replace(/\./g, "_")}_${binding.rpc.name}${binding.bindingIndex === 0 ? "" : `_${binding.bindingIndex}`}`;
    let id = base;
    // Only reachable through names like `A_B.C` vs `A.B_C`; the suffix keeps ids unique anyway.
    for (let n = 2; used.has(id); n++) id = `${base}__${n}`;
    used.add(id);
    ids.set(binding, id);
  }
  return {
    tag,
    operationId: (binding) => ids.get(binding) ?? `${tag(binding.rpc.parent).replace(/\./g, "_")}_${binding.rpc.name}`,
  };
}

/** Everything one operation needs besides its binding. */
export interface OperationContext {
  readonly names: ServiceNames;
  readonly schemas: SchemaRegistry;
  /** The binding's OpenAPI path pieces and the names the path gives its slots. */
  readonly split: OpenApiPathParts;
  readonly parameterNames: readonly string[];
}

/**
 * The OpenAPI operation of one binding, with its security requirements from the access rule. A
 * streaming method's streamed side is documented as a stream (streaming.ts), its description ends
 * with a note on streaming and the WebSocket form, and `x-protogate-streaming` names its kind.
 */
export function buildOperation(binding: CodegenBinding, context: OperationContext): OpenApiOperation {
  const { rpc, kind } = binding;
  const { schemas } = context;
  const query = queryParameters(binding, schemas);
  const parameters = [...pathParameters(binding, context.split, context.parameterNames, schemas), ...query.parameters];
  const body = streamsRequests(kind) ? streamedRequestBody(binding, schemas) : requestBody(binding, schemas);
  const success = streamsResponses(kind) ? { code: "200", response: streamedResponse(binding, schemas) } : successResponse(binding, schemas);
  const { summary, description } = summaryAndDescription(commentOf(rpc));
  const notes = [description, ...fixedFieldNotes(context.split), kind === "unary" ? undefined : streamingNote(kind)].filter((part) => part !== undefined);
  const fullDescription = notes.length === 0 ? undefined : notes.join("\n\n");
  return {
    operationId: context.names.operationId(binding),
    // Viewers list operations by summary: an RPC without a comment shows its name.
    summary: summary ?? rpc.name,
    ...(fullDescription === undefined ? {} : { description: fullDescription }),
    tags: [context.names.tag(rpc.parent)],
    ...(rpc.deprecated ? { deprecated: true } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: { [success.code]: success.response, ...authResponses(binding.auth, schemas), default: errorResponse(schemas) },
    security: operationSecurity(binding.auth),
    "x-protogate-rpc": `/${rpc.parent.typeName}/${rpc.name}`,
    ...(kind === "unary" ? {} : { "x-protogate-streaming": kind }),
    ...(query.truncated ? { "x-protogate-query-truncated": true } : {}),
  };
}
