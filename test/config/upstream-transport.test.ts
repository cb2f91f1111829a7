import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";
import { readUpstreamTargets } from "../../src/config/read-tls-files.js";

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "pg-transport-")), "gateway.yaml");
  writeFileSync(file, text);
  return file;
}

describe("upstreams.<service>.transport", () => {
  it("reaches the upstream pool's targets", () => {
    const config = loadConfig(configFile("upstreams:\n  a.v1.S:\n    address: h:1\n    transport: grpc-js\n  a.v1.T:\n    address: h:2\n  a.v1.U: h:3\n"));
    // The HOST:PORT shorthand is read as an object with that address.
    expect(readUpstreamTargets(config)).toEqual({ "a.v1.S": { address: "h:1", transport: "grpc-js" }, "a.v1.T": { address: "h:2" }, "a.v1.U": { address: "h:3" } });
  });

  it("accepts only http2 and grpc-js", () => {
    const file = configFile("upstreams:\n  a.v1.S:\n    address: h:1\n    transport: grpc-web\n");
    expect(() => loadConfig(file)).toThrow(ConfigError);
    expect(() => loadConfig(file)).toThrow("upstreams.a.v1.S");
  });
});
