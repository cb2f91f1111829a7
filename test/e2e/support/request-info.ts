/** The `@type` of the detail that names the request ID in every error body. */
export const REQUEST_INFO_TYPE = "type.googleapis.com/google.rpc.RequestInfo";

/**
 * Checks that a google.rpc.Status body ends with the `google.rpc.RequestInfo` detail naming the
 * response's `x-request-id` (every error body must), and returns the body without it, so that
 * tests compare the rest exactly. Other bodies are returned as they are. Throws (failing the
 * test) when an error body lacks the detail, holds it twice, or names another ID.
 */
export function withoutRequestInfo(json: unknown, status: number, requestId: string | null): unknown {
  if (status < 400 || typeof json !== "object" || json === null || !Array.isArray((json as { details?: unknown }).details)) return json;
  return statusWithoutRequestInfo(json, requestId);
}

/** The same check on a Status that is not the body itself (a stream's last error line or event). */
export function statusWithoutRequestInfo(json: unknown, requestId: string | null): unknown {
  const body = json as { details: unknown[] };
  const infos = body.details.filter((detail) => (detail as { "@type"?: unknown } | null)?.["@type"] === REQUEST_INFO_TYPE);
  const last = body.details.at(-1) as { requestId?: unknown } | undefined;
  if (infos.length !== 1 || last === undefined || last !== infos[0]) throw new Error(`an error body must end with one google.rpc.RequestInfo detail: ${JSON.stringify(json)}`);
  if (requestId === null || last.requestId !== requestId) throw new Error(`RequestInfo.requestId ${JSON.stringify(last.requestId)} is not the x-request-id header ${JSON.stringify(requestId)}`);
  return { ...body, details: body.details.slice(0, -1) };
}

/** A fetch Response's JSON body, an error body's RequestInfo checked and taken out. */
export async function responseJson(response: Response): Promise<unknown> {
  return withoutRequestInfo(await response.json(), response.status, response.headers.get("x-request-id"));
}
