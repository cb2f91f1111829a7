import { describe, expect, it } from "vitest";
import { captureResponse, replayableHeaders } from "../../bench/floor-responses.js";

describe("the floor's captured responses", () => {
  it("keeps the headers Protogate chose and drops the ones every server writes itself", () => {
    const headers: [string, string][] = [
      ["Content-Type", "application/json; charset=utf-8"],
      ["grpc-metadata-x-demo-served-by", "demo"],
      ["content-length", "331"],
      ["Date", "Fri, 04 Dec 2026 22:31:42 GMT"],
      ["Connection", "keep-alive"],
      ["Keep-Alive", "timeout=72"],
      ["transfer-encoding", "chunked"],
    ];
    expect(replayableHeaders(headers)).toEqual({ "content-type": "application/json; charset=utf-8", "grpc-metadata-x-demo-served-by": "demo" });
  });

  it("records the status and the exact body bytes", async () => {
    const body = Buffer.from('{"userId":"u-1","name":"Ad\u00e1"}');
    const captured = await captureResponse(new Response(body, { status: 200, headers: { "content-type": "application/json; charset=utf-8" } }));
    expect(captured.status).toBe(200);
    expect(Buffer.from(captured.bodyBase64, "base64").equals(body)).toBe(true);
    expect(captured.headers).toEqual({ "content-type": "application/json; charset=utf-8" });
  });
});
