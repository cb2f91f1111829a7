import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import { connect, type AddressInfo } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertTokenSyntax, createCredentialExtractor, extractCredentials, isTokenProtocol, schemeAndRest, type CredentialOptions } from "../../src/auth/credentials.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { fuzzRuns } from "../support/fuzz.js";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln";
const withKeys: CredentialOptions = { apiKeyHeader: "x-api-key" };

/** The thrown 401's body message and challenge, or the result. */
function run(rawHeaders: string[], options: CredentialOptions = withKeys): unknown {
  try {
    return extractCredentials(rawHeaders, options);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { status: 401, message: error.message, challenge: error.headers["www-authenticate"] };
  }
}
const invalidRequest = (message: string) => ({ status: 401, message, challenge: `Bearer realm="protogate", error="invalid_request", error_description="${message}"` });

describe("extractCredentials: default sources", () => {
  it.each<[string, string[], unknown]>([
    ["no headers", [], { kind: "none" }],
    ["unrelated headers", ["Host", "x", "Accept", "*/*"], { kind: "none" }],
    ["Bearer token", ["Authorization", `Bearer ${JWT}`], { kind: "jwt", token: JWT }],
    ["scheme in any case, header in any case", ["AUTHORIZATION", `bEaReR ${JWT}`], { kind: "jwt", token: JWT }],
    ["surrounding whitespace and 1*SP", ["authorization", `  Bearer   ${JWT} `], { kind: "jwt", token: JWT }],
    ["token68 padding", ["authorization", "Bearer abc+/=="], { kind: "jwt", token: "abc+/==" }],
    ["API key", ["X-Api-Key", "k-123"], { kind: "api-key", key: "k-123" }],
    ["API key trimmed", ["x-api-key", "  k-123 "], { kind: "api-key", key: "k-123" }],
    ["two Authorization headers", ["Authorization", `Bearer ${JWT}`, "authorization", `Bearer ${JWT}`], invalidRequest("multiple Authorization headers")],
    ["two Authorization headers, one empty", ["Authorization", `Bearer ${JWT}`, "Authorization", ""], invalidRequest("multiple Authorization headers")],
    ["two API-key headers", ["x-api-key", "a", "X-API-KEY", "b"], invalidRequest("multiple x-api-key headers")],
    ["empty API key", ["x-api-key", "  "], invalidRequest("empty x-api-key header")],
    ["a bare token, no scheme", ["Authorization", JWT], invalidRequest("missing Bearer scheme in Authorization header")],
    ["a bare base64 value", ["Authorization", "abc=="], invalidRequest("missing Bearer scheme in Authorization header")],
    ["empty Authorization", ["Authorization", ""], invalidRequest("missing Bearer scheme in Authorization header")],
    ["Bearer without token", ["Authorization", "Bearer"], invalidRequest("empty bearer token in Authorization header")],
    ["Bearer and spaces", ["Authorization", "Bearer   "], invalidRequest("empty bearer token in Authorization header")],
    ["two tokens", ["Authorization", `Bearer ${JWT} ${JWT}`], invalidRequest("Authorization header must be Bearer followed by exactly one token")],
    ["token with a quote", ["Authorization", 'Bearer ab"c'], invalidRequest("Authorization header must be Bearer followed by exactly one token")],
    ["token and API key", ["Authorization", `Bearer ${JWT}`, "x-api-key", "k"], invalidRequest("send one credential: a bearer token or an API key, not both")],
  ])("%s", (_name, headers, expected) => {
    expect(run(headers)).toEqual(expected);
  });

  it.each([
    ["Basic", "Basic dXNlcjpwYXNz"],
    ["Digest", 'Digest username="u", realm="r"'],
  ])("%s is an unsupported scheme: 401 without an error attribute", (_name, value) => {
    expect(run(["Authorization", value])).toEqual({ status: 401, message: "missing Bearer: the Authorization scheme must be Bearer", challenge: 'Bearer realm="protogate"' });
  });

  it("ignores the API-key header when API keys are off", () => {
    expect(run(["x-api-key", "k"], {})).toEqual({ kind: "none" });
  });

  it("never puts the credential in the error", () => {
    for (const headers of [
      ["Authorization", `Bearer ${JWT}`, "Authorization", `Bearer ${JWT}`],
      ["Authorization", `Bearer ${JWT} secret-two`],
      ["Authorization", `Basic c2VjcmV0`],
      ["x-api-key", "secret-key", "x-api-key", "secret-key"],
      ["Authorization", `Bearer ${JWT}`, "x-api-key", "secret-key"],
    ]) {
      const result = JSON.stringify(run(headers));
      expect(result).toContain("401");
      expect(result).not.toContain(JWT);
      expect(result).not.toMatch(/secret|c2VjcmV0/);
    }
  });
});

describe("extractCredentials: configured sources", () => {
  const options: CredentialOptions = {
    tokenSources: [{ header: "X-Auth-Token", bearer: false }, { header: "x-bearer" }, { cookie: "session" }],
    apiKeyHeader: "X-Key",
  };

  it.each<[string, string[], unknown]>([
    ["bare token header", ["x-auth-token", JWT], { kind: "jwt", token: JWT }],
    ["bearer-style custom header", ["X-Bearer", `Bearer ${JWT}`], { kind: "jwt", token: JWT }],
    ["cookie", ["Cookie", `theme=dark; session=${JWT}; lang=de`], { kind: "jwt", token: JWT }],
    ["quoted cookie", ["Cookie", `session="${JWT}"`], { kind: "jwt", token: JWT }],
    ["cookie split over two Cookie headers (HTTP/2)", ["cookie", "theme=dark", "cookie", `session=${JWT}`], { kind: "jwt", token: JWT }],
    ["empty cookie counts as absent", ["Cookie", "session="], { kind: "none" }],
    ["cookie name is case-sensitive", ["Cookie", `Session=${JWT}`], { kind: "none" }],
    ["cookie name must match whole", ["Cookie", `xsession=${JWT}`], { kind: "none" }],
    ["configured API-key header", ["x-key", "k"], { kind: "api-key", key: "k" }],
    ["Authorization is no longer read", ["Authorization", `Bearer ${JWT}`], { kind: "none" }],
    ["x-api-key is no longer read", ["x-api-key", "k"], { kind: "none" }],
    ["two cookies of that name", ["Cookie", `session=${JWT}; session=${JWT}`], invalidRequest("multiple session cookies")],
    ["two bare token headers", ["x-auth-token", JWT, "x-auth-token", JWT], invalidRequest("multiple X-Auth-Token headers")],
    ["bare token header with a scheme", ["x-auth-token", `Bearer ${JWT}`], invalidRequest("X-Auth-Token header must hold exactly one token")],
    ["tokens from two sources", ["x-auth-token", JWT, "Cookie", `session=${JWT}`], invalidRequest("send one credential: found tokens in X-Auth-Token and cookie session")],
    ["cookie token and API key", ["Cookie", `session=${JWT}`, "X-Key", "k"], invalidRequest("send one credential: a bearer token or an API key, not both")],
  ])("%s", (_name, headers, expected) => {
    expect(run(headers, options)).toEqual(expected);
  });

  it("reads no token with tokenSources: []", () => {
    expect(run(["Authorization", `Bearer ${JWT}`], { tokenSources: [] })).toEqual({ kind: "none" });
  });
});

describe("extractCredentials properties", () => {
  const token68 = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,60}=*$/);

  it("returns any token68 token sent as Bearer", () => {
    fc.assert(
      fc.property(token68, fc.constantFrom("Bearer", "bearer", "BEARER"), (token, scheme) => {
        expect(extractCredentials(["Authorization", `${scheme} ${token}`])).toEqual({ kind: "jwt", token });
      }),
      fuzzRuns(300),
    );
  });

  it("either returns credentials or throws a 401 GatewayError, whatever the headers", () => {
    const name = fc.constantFrom("authorization", "Authorization", "x-api-key", "cookie", "x-other");
    const value = fc.oneof(fc.string({ maxLength: 40 }), token68.map((t) => `Bearer ${t}`), fc.string({ maxLength: 40 }).map((s) => `session=${s}`));
    const options: CredentialOptions = { tokenSources: [{ header: "authorization" }, { cookie: "session" }], apiKeyHeader: "x-api-key" };
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 6 }), (pairs) => {
        try {
          const result = extractCredentials(pairs.flat(), options);
          expect(["none", "jwt", "api-key"]).toContain(result.kind);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).code).toBe(GrpcCode.UNAUTHENTICATED);
        }
      }),
      fuzzRuns(300),
    );
  });

  it("matches a reference model on structured header lists (property)", () => {
    // Every header is generated with its meaning; the model derives the outcome from those
    // meanings and the documented precedence, not by parsing the text again.
    type Entry =
      | { readonly name: "authorization"; readonly text: string; readonly meaning: { token: string } | { error: string; kind: "none" | "invalid_request" } }
      | { readonly name: "x-auth-token"; readonly text: string; readonly meaning: { token: string } | { error: string; kind: "invalid_request" } }
      | { readonly name: "x-api-key"; readonly text: string; readonly meaning: { key: string } | { error: string; kind: "invalid_request" } }
      | { readonly name: "cookie"; readonly text: string; readonly sessions: ReadonlyArray<string> }
      | { readonly name: "x-other"; readonly text: string };
    const token = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,24}=*$/).filter((t) => t.toLowerCase() !== "bearer");
    const casing = (name: string) => fc.constantFrom(name, name.toUpperCase(), name[0].toUpperCase() + name.slice(1));
    const space = fc.constantFrom("", " ", "  ");
    const authorization = fc.oneof(
      fc.tuple(fc.constantFrom("Bearer", "bearer", "BEARER"), fc.constantFrom(" ", "   "), token, space).map(([scheme, sep, t, pad]) => ({ text: `${pad}${scheme}${sep}${t}${pad}`, meaning: { token: t } })),
      fc.tuple(fc.constantFrom("Basic", "Token", "Digest"), token).map(([scheme, t]) => ({ text: `${scheme} ${t}`, meaning: { error: "missing Bearer: the Authorization scheme must be Bearer", kind: "none" as const } })),
      token.map((t) => ({ text: t, meaning: { error: "missing Bearer scheme in Authorization header", kind: "invalid_request" as const } })),
      fc.constantFrom("Bearer", "bearer ", "BEARER").map((text) => ({ text, meaning: { error: "empty bearer token in Authorization header", kind: "invalid_request" as const } })),
      fc.tuple(token, token).map(([a, b]) => ({ text: `Bearer ${a} ${b}`, meaning: { error: "Authorization header must be Bearer followed by exactly one token", kind: "invalid_request" as const } })),
    );
    const entry: fc.Arbitrary<Entry> = fc.oneof(
      fc.tuple(casing("authorization"), authorization).map(([, a]) => ({ name: "authorization" as const, ...a })),
      fc.oneof(
        token.map((t) => ({ text: t, meaning: { token: t } })),
        fc.constant({ text: " ", meaning: { error: "empty x-auth-token header", kind: "invalid_request" as const } }),
        fc.tuple(token, token).map(([a, b]) => ({ text: `${a} ${b}`, meaning: { error: "x-auth-token header must hold exactly one token", kind: "invalid_request" as const } })),
      ).map((x) => ({ name: "x-auth-token" as const, ...x })),
      fc.oneof(
        fc.stringMatching(/^[ -~]{1,20}$/).filter((k) => k.trim() !== "").map((k) => ({ text: k, meaning: { key: k.trim() } })),
        fc.constantFrom("", "  ").map((text) => ({ text, meaning: { error: "empty x-api-key header", kind: "invalid_request" as const } })),
      ).map((x) => ({ name: "x-api-key" as const, ...x })),
      fc.array(fc.oneof(token.map((t) => ({ part: `session=${t}`, session: t })), token.map((t) => ({ part: `session="${t}"`, session: t })), fc.constant({ part: "session=", session: "" }), fc.constant({ part: "theme=dark", session: undefined })), { minLength: 1, maxLength: 3 }).map((parts) => ({
        name: "cookie" as const,
        text: parts.map((p) => p.part).join("; "),
        sessions: parts.flatMap((p) => (p.session === undefined ? [] : [p.session])),
      })),
      fc.constant({ name: "x-other" as const, text: "whatever" }),
    );
    const options: CredentialOptions = { tokenSources: [{ header: "authorization" }, { cookie: "session" }, { header: "x-auth-token", bearer: false }], apiKeyHeader: "x-api-key" };

    function model(entries: readonly Entry[]): unknown {
      const fail = (message: string, kind: "none" | "invalid_request" = "invalid_request") => ({ error: message, kind });
      let found: { token: string; label: string } | undefined;
      const sources = [
        { label: "Authorization", read: () => headerToken("authorization", "Authorization") },
        { label: "cookie session", read: () => cookieToken() },
        { label: "x-auth-token", read: () => headerToken("x-auth-token", "x-auth-token") },
      ];
      function headerToken(name: "authorization" | "x-auth-token", label: string): string | { error: string; kind: "none" | "invalid_request" } | undefined {
        const list = entries.filter((e) => e.name === name);
        if (list.length === 0) return undefined;
        if (list.length > 1) return fail(`multiple ${label} headers`);
        const meaning = (list[0] as Extract<Entry, { name: typeof name }>).meaning;
        return "token" in meaning ? meaning.token : meaning;
      }
      function cookieToken(): string | { error: string; kind: "none" | "invalid_request" } | undefined {
        const sessions = entries.flatMap((e) => (e.name === "cookie" ? e.sessions : []));
        if (sessions.length > 1) return fail("multiple session cookies");
        return sessions.length === 0 || sessions[0] === "" ? undefined : sessions[0];
      }
      for (const source of sources) {
        const result = source.read();
        if (result === undefined) continue;
        if (typeof result !== "string") return result;
        if (found !== undefined) return fail(`send one credential: found tokens in ${found.label} and ${source.label}`);
        found = { token: result, label: source.label };
      }
      const keys = entries.filter((e) => e.name === "x-api-key");
      let key: string | undefined;
      if (keys.length > 1) return fail("multiple x-api-key headers");
      if (keys.length === 1) {
        const meaning = (keys[0] as Extract<Entry, { name: "x-api-key" }>).meaning;
        if (!("key" in meaning)) return meaning;
        key = meaning.key;
      }
      if (found !== undefined && key !== undefined) return fail("send one credential: a bearer token or an API key, not both");
      if (found !== undefined) return { kind: "jwt", token: found.token };
      if (key !== undefined) return { kind: "api-key", key };
      return { kind: "none" };
    }

    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), fc.array(fc.constantFrom((n: string) => n, (n: string) => n.toUpperCase()), { minLength: 5, maxLength: 5 }), (entries, cases) => {
        const raw = entries.flatMap((e, i) => [cases[i](e.name), e.text]);
        let actual: unknown;
        try {
          actual = extractCredentials(raw, options);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          const challenge = (error as GatewayError).headers["www-authenticate"];
          actual = { error: (error as GatewayError).message, kind: challenge.includes('error="invalid_request"') ? "invalid_request" : "none" };
        }
        expect(actual).toEqual(model(entries));
      }),
      fuzzRuns(500),
    );
  });
});

describe("with Node's HTTP server", () => {
  /** Sends a raw HTTP/1.1 request and hands back what the server saw. */
  async function receive(rawRequest: string): Promise<IncomingMessage> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const seen = once(server, "request") as Promise<[IncomingMessage, import("node:http").ServerResponse]>;
      const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
      socket.on("error", () => {});
      socket.write(rawRequest);
      const [message, response] = await seen;
      response.end();
      socket.destroy();
      return message;
    } finally {
      server.close();
    }
  }

  it("sees two Authorization headers in rawHeaders that IncomingMessage.headers hides", async () => {
    const message = await receive(`GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${JWT}\r\nauthorization: Bearer other\r\nConnection: close\r\n\r\n`);
    expect(message.headers.authorization).toBe(`Bearer ${JWT}`);
    expect(run(message.rawHeaders)).toEqual(invalidRequest("multiple Authorization headers"));
  });

  it("sees two API keys that IncomingMessage.headers joins", async () => {
    const message = await receive("GET / HTTP/1.1\r\nHost: x\r\nX-Api-Key: a\r\nx-api-key: b\r\nConnection: close\r\n\r\n");
    expect(message.headers["x-api-key"]).toBe("a, b");
    expect(run(message.rawHeaders)).toEqual(invalidRequest("multiple x-api-key headers"));
  });

  it("reads a single Bearer token from a real request", async () => {
    const server = createServer((req, res) => res.end(JSON.stringify(extractCredentials(req.rawHeaders))));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, headers: { authorization: `Bearer ${JWT}` } }, (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.end();
      });
      expect(JSON.parse(body)).toEqual({ kind: "jwt", token: JWT });
    } finally {
      server.close();
    }
  });
});

describe("createCredentialExtractor", () => {
  it("can be reused across requests", () => {
    const extract = createCredentialExtractor(withKeys);
    expect(extract(["x-api-key", "a"])).toEqual({ kind: "api-key", key: "a" });
    expect(extract(["authorization", `Bearer ${JWT}`])).toEqual({ kind: "jwt", token: JWT });
    expect(extract([])).toEqual({ kind: "none" });
  });
});

describe("schemeAndRest", () => {
  // The regular expression it replaced, as the reference model (RFC 7235: scheme, then 1*SP).
  const reference = (value: string) => {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s.exec(value);
    return match === null ? undefined : { scheme: match[1], rest: match[2] };
  };

  it.each(["Bearer abc", "Bearer", "bearer   abc def", "Be@rer abc", "Bearer\tabc", " Bearer abc", "", "Basic dXNlcg==", "Bearer  ", "a b\nc"])("%j as the regular expression read it", (value) => {
    expect(schemeAndRest(value)).toEqual(reference(value));
  });

  it("agrees with the regular expression on any text (property)", () => {
    const text = fc.string({ unit: fc.constantFrom("B", "e", "a", "r", " ", "\t", "@", "=", ".", "~", "\n", "é", "x"), maxLength: 16 });
    fc.assert(
      fc.property(text, (value) => {
        expect(schemeAndRest(value)).toEqual(reference(value));
      }),
      fuzzRuns(2000),
    );
  });
});

describe("deferTokenSyntax", () => {
  const deferred = createCredentialExtractor({ ...withKeys, deferTokenSyntax: true });
  const deferredThenChecked = (rawHeaders: string[]): unknown => {
    try {
      const credentials = deferred(rawHeaders);
      assertTokenSyntax(credentials);
      return credentials.kind === "jwt" ? { kind: "jwt", token: credentials.token } : credentials;
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return { status: 401, message: error.message, challenge: error.headers["www-authenticate"] };
    }
  };

  it("leaves a header token's token68 check to assertTokenSyntax, with the same answer", () => {
    for (const headers of [["authorization", `Bearer ${JWT}`], ["authorization", `Bearer ${JWT} ${JWT}`], ["authorization", 'Bearer ab"c'], ["authorization", "Bearer"], ["x-api-key", "k"], []]) {
      expect(deferredThenChecked(headers)).toEqual(run(headers));
    }
    const unchecked = deferred(["authorization", `Bearer ${JWT} ${JWT}`]);
    expect(unchecked).toEqual({ kind: "jwt", token: `${JWT} ${JWT}`, uncheckedSyntax: "Authorization header must be Bearer followed by exactly one token" });
  });

  it("still checks cookie tokens at once (only header tokens are deferred)", () => {
    const extract = createCredentialExtractor({ tokenSources: [{ cookie: "session" }], deferTokenSyntax: true });
    expect(() => extract(["cookie", 'session=a"b'])).toThrow("cookie session must hold exactly one token");
  });
});

describe("the WebSocket subprotocol token source", () => {
  const prefix = "base64url.bearer.authorization.protogate.";
  const extract = createCredentialExtractor({ tokenSources: [{ header: "authorization" }, { webSocketProtocol: prefix }] });
  const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln";
  const encoded = Buffer.from(token).toString("base64url");

  it("reads the base64url token from its Sec-WebSocket-Protocol entry, among others", () => {
    expect(extract(["Sec-WebSocket-Protocol", `protogate, ${prefix}${encoded}`])).toEqual({ kind: "jwt", token });
  });

  it.each([
    ["two token entries", `${prefix}${encoded}, ${prefix}${encoded}`, "multiple tokens in Sec-WebSocket-Protocol"],
    ["an empty token", `${prefix}, protogate`, "the Sec-WebSocket-Protocol token must be one base64url-encoded token"],
    ["a token that is not base64url", `${prefix}a+b, protogate`, "the Sec-WebSocket-Protocol token must be one base64url-encoded token"],
  ])("refuses %s (401 invalid_request)", (_name, header, message) => {
    expect(() => extract(["Sec-WebSocket-Protocol", header])).toThrow(message);
  });

  it("a token there and in Authorization is two credentials", () => {
    expect(() => extract(["Authorization", `Bearer ${token}`, "Sec-WebSocket-Protocol", `${prefix}${encoded}`])).toThrow(/send one credential/);
  });

  it("marks the token entry, so it is never selected (echoed)", () => {
    expect(isTokenProtocol(`${prefix}${encoded}`, [{ webSocketProtocol: prefix }])).toBe(true);
    expect(isTokenProtocol("protogate", [{ webSocketProtocol: prefix }])).toBe(false);
  });
});
