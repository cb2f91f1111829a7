import { request } from "node:http";
import type { TestResponse } from "./gateway-harness.js";
import { withoutRequestInfo } from "./request-info.js";

/** One request header as it goes on the wire; repeat a name to send it twice. */
export type RawHeader = readonly [name: string, value: string];

/**
 * Sends an HTTP/1.1 request with node:http, headers exactly as listed (duplicates included, which
 * `fetch` would merge into one) plus `Host` unless listed, and reads the whole response.
 */
export function sendRaw(base: string, method: string, path: string, headers: readonly RawHeader[], body?: string): Promise<TestResponse> {
  const url = new URL(base);
  // With a raw header list node:http adds nothing itself, not even the Host HTTP/1.1 requires.
  const flat: string[] = headers.some(([name]) => name.toLowerCase() === "host") ? [] : ["host", url.host];
  for (const [name, value] of headers) flat.push(name, value);
  if (body !== undefined) flat.push("content-length", String(Buffer.byteLength(body)));
  return new Promise<TestResponse>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: flat, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const responseHeaders = new Headers();
        for (let index = 0; index + 1 < res.rawHeaders.length; index += 2) responseHeaders.append(res.rawHeaders[index], res.rawHeaders[index + 1]);
        const text = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        resolve({ status, headers: responseHeaders, text, json: withoutRequestInfo(parseJson(text), status, responseHeaders.get("x-request-id")) });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
