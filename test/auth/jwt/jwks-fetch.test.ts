import { describe, expect, it, vi } from "vitest";
import { fetchJwks } from "../../../src/auth/jwt/jwks-fetch.js";

const URL = "https://idp.test/jwks";
const rsaPublic = { kty: "RSA", kid: "r", n: "AQAB", e: "AQAB" };

function fetchReturning(response: () => Response): typeof fetch {
  return vi.fn<typeof fetch>(async () => response());
}

describe("fetchJwks", () => {
  it("keeps only public signature keys", async () => {
    const keys = [
      rsaPublic,
      { kty: "oct", kid: "secret", k: "c2VjcmV0" },
      { kty: "RSA", kid: "private", n: "AQAB", e: "AQAB", d: "AQAB" },
      { kty: "EC", kid: 5, crv: "P-256", x: "a", y: "b" },
      "not a key",
      { kty: "OKP", kid: "ed", crv: "Ed25519", x: "a" },
    ];
    const jwks = await fetchJwks(URL, { fetch: fetchReturning(() => Response.json({ keys })), timeoutMs: 1000 });
    expect(jwks.keys.map((key) => key.kid)).toEqual(["r", "ed"]);
  });

  it.each([
    ["a non-2xx status", () => new Response("nope", { status: 500 }), "failed with HTTP 500"],
    ["invalid JSON", () => new Response("{"), "is not valid JSON"],
    ["no keys array", () => Response.json({ keys: {} }), 'has no "keys" array'],
    ["a body over the limit", () => new Response("x".repeat(600 * 1024)), "larger than"],
    ["a declared length over the limit", () => new Response("{}", { headers: { "content-length": String(10 * 1024 * 1024) } }), "larger than"],
  ])("rejects %s", async (_name, response, message) => {
    await expect(fetchJwks(URL, { fetch: fetchReturning(response), timeoutMs: 1000 })).rejects.toThrow(message);
  });

  it("gives up after the timeout even if the fetch ignores its abort signal", async () => {
    let signal: AbortSignal | undefined;
    const never = vi.fn<typeof fetch>((_url, init) => {
      signal = init?.signal ?? undefined;
      return new Promise<Response>(() => {});
    });
    await expect(fetchJwks(URL, { fetch: never, timeoutMs: 20 })).rejects.toThrow("timed out after 20 ms");
    expect(signal?.aborted).toBe(true);
  });

  it("stops when the caller aborts", async () => {
    const controller = new AbortController();
    controller.abort();
    const fetchSpy = fetchReturning(() => Response.json({ keys: [] }));
    await expect(fetchJwks(URL, { fetch: fetchSpy, timeoutMs: 1000, signal: controller.signal })).rejects.toThrow("aborted");
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
