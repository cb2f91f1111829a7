/**
 * The answers the floor server replays: for each bench route, the status, headers and body bytes
 * Protogate sent, captured once from a running Protogate so that the floor writes the same bytes.
 */
export interface CapturedResponse {
  readonly status: number;
  /** Lower-case names; the per-connection ones (see CONNECTION_HEADERS) are left to the server. */
  readonly headers: Readonly<Record<string, string>>;
  readonly bodyBase64: string;
}

/** Route id -> the captured answer. */
export type CapturedResponses = Readonly<Record<string, CapturedResponse>>;

/** Headers every HTTP server writes itself per response or per connection; replaying them would duplicate them. */
const CONNECTION_HEADERS = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

/** The headers of a captured response that the floor must send as they are. */
export function replayableHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (!CONNECTION_HEADERS.has(lower)) kept[lower] = value;
  }
  return kept;
}

/** Reads one fetch response into its replayable form. */
export async function captureResponse(response: Response): Promise<CapturedResponse> {
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: replayableHeaders(response.headers.entries()), bodyBase64: body.toString("base64") };
}
