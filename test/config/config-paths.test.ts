import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfigPaths } from "../../src/config/config-paths.js";
import { loadConfig } from "../../src/config/load-config.js";

describe("paths in gateway.yaml", () => {
  it("regression: paths resolved against the working directory; they are relative to the file's folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-config-paths-"));
    mkdirSync(join(dir, "deploy"));
    const file = join(dir, "deploy", "gateway.yaml");
    writeFileSync(file, "generated: ../gen\nserver:\n  tls: {certFile: certs/server.pem, keyFile: /abs/server.key}\n");
    const config = loadConfig(file);
    expect(config.generated).toBe(join(dir, "gen"));
    expect(config.server.tls).toEqual({ certFile: join(dir, "deploy", "certs", "server.pem"), keyFile: "/abs/server.key" });
  });

  it("a --generated flag stays relative to where the command runs", () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-config-paths-"));
    const file = join(dir, "gateway.yaml");
    writeFileSync(file, "generated: gen\n");
    expect(loadConfig(file, { generated: "flag-gen" }).generated).toBe("flag-gen");
  });

  it("rebases every file key (upstream TLS, JWT key files) and leaves the rest alone", () => {
    const raw = {
      upstreams: { "a.v1.S": { address: "h:1", tls: { caFile: "ca.pem" } }, "b.v1.S": "h:2" },
      auth: { jwt: { issuers: [{ issuer: "i", keyFile: "k.pem" }, { issuer: "j", hmacSecretFile: "/s" }, { issuer: "k", jwksUrl: "https://x/jwks" }] } },
      graphql: { enabled: true, persistedQueries: { manifest: "pq/manifest.json", only: true } },
      logging: { level: "info" },
    };
    expect(resolveConfigPaths(raw, "/etc/pg")).toEqual({
      upstreams: { "a.v1.S": { address: "h:1", tls: { caFile: "/etc/pg/ca.pem" } }, "b.v1.S": "h:2" },
      auth: { jwt: { issuers: [{ issuer: "i", keyFile: "/etc/pg/k.pem" }, { issuer: "j", hmacSecretFile: "/s" }, { issuer: "k", jwksUrl: "https://x/jwks" }] } },
      graphql: { enabled: true, persistedQueries: { manifest: "/etc/pg/pq/manifest.json", only: true } },
      logging: { level: "info" },
    });
  });
});
