import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";

const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

function writeTemp(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "pg-readme-config-")), "gateway.yaml");
  writeFileSync(file, text);
  return file;
}

describe("the README's configuration reference", () => {
  it("is a valid gateway.yaml (the documented keys are the real ones)", () => {
    const section = README.slice(README.indexOf("## Configuration"));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml, "no yaml block under ## Configuration").toBeDefined();
    const config = loadConfig(writeTemp(yaml ?? ""));
    expect(config.server.port).toBe(8080);
    expect(config.deadlines.rules[0]).toEqual({ selector: "demo.v1.UserService.*", ms: 5000 });
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it("the auth example is a valid auth section", () => {
    const section = README.slice(README.indexOf("### `auth:` in gateway.yaml"));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml, "no yaml block under the auth section").toBeDefined();
    const config = loadConfig(writeTemp(yaml ?? ""));
    expect(config.auth.mode).toBe("on");
    expect(config.auth.jwt?.issuers.map((i) => i.issuer)).toEqual(["https://login.example.com/", "internal-batch"]);
    expect(config.auth.rules).toHaveLength(2);
  });

  it("the rate-limit examples are valid and say what the text says", () => {
    const section = README.slice(README.indexOf("## Rate limiting"), README.indexOf("## Aggregate routes (backend for frontend)"));
    const [memory, redis] = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => loadConfig(writeTemp(match[1])));
    expect(memory.rateLimits.store).toBe("memory");
    expect(memory.rateLimits.limits.map((limit) => [limit.name, limit.key, limit.onStoreFailure])).toEqual([
      ["per-caller", "caller", "fail-open"],
      ["orders-global", "global", "fail-closed"],
    ]);
    expect(memory.server.trustProxy).toEqual(["10.0.0.0/8"]);
    expect(redis.rateLimits.store).toBe("redis");
    expect(redis.rateLimits.redis).toMatchObject({ mode: "standalone", hashTag: "protogate", commandTimeoutMs: 50, localFallbackShare: 0.34 });
  });

  it("an empty file gives the documented defaults", () => {
    const config = loadConfig(writeTemp(""));
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8080, bodyLimitBytes: 1024 * 1024, drainTimeoutMs: 10_000 });
    expect(config.deadlines.defaultMs).toBe(15_000);
    expect(config.transcoding).toEqual({ ignoreUnknownFields: false, ignoreUnknownQueryParameters: false, outputOnlyFields: "drop" });
  });

  it.each([
    ["server:\n  port: 70000\n", "server.port"],
    ["server:\n  colour: blue\n", 'unknown key(s) "colour"'],
    ["upstreams:\n  not-a-service: 127.0.0.1:1\n", "upstreams.not-a-service"],
    ["upstreams:\n  a.B: no-port\n", "expected HOST:PORT"],
    ["deadlines:\n  rules:\n    - selector: '!!'\n      ms: 5\n", "deadlines.rules.0.selector"],
    ["cors:\n  origins: '*'\n  credentials: true\n", "credentials cannot be combined"],
    ["server:\n  trustProxy: [10.0.0.0/33]\n", "server.trustProxy.0"],
    ["rateLimits:\n  limits:\n    - name: a\n      key: ip\n", "rateLimits.limits.0.requests"],
    ["rateLimits:\n  store: etcd\n", "rateLimits.store"],
    ["upstreams:\n  a.B:\n    address: h:1\n    tls:\n      certFile: c.pem\n", "certFile and keyFile go together"],
    ["- just\n- a list\n", "top level must be a mapping"],
    ["server: [unclosed\n", "invalid YAML"],
  ])("rejects %j naming %s", (text, expected) => {
    expect(() => loadConfig(writeTemp(text))).toThrow(ConfigError);
    expect(() => loadConfig(writeTemp(text))).toThrow(expected);
  });
});
