import { describe, expect, it } from "vitest";
import { configFromObject } from "../src/config/load-config.js";
import { buildGeneration, type GenerationShared } from "../src/generation.js";
import { createLogger } from "../src/logger.js";
import { configIdentity } from "../src/reload/config-identity.js";
import { demoGenerated } from "./e2e/support/gateway-harness.js";

const head = { method: "GET", url: "/v1/users/u-1", headers: {}, rawHeaders: [], client: { ip: "127.0.0.1", host: "h", protocol: "http" as const } };

function shared(): GenerationShared {
  return { log: createLogger("silent"), metrics: undefined, shutdown: new AbortController().signal, seams: {} };
}

describe("a generation of the gateway", () => {
  it("retire: closes its upstream channels only once every request it began has ended", async () => {
    const config = configFromObject({ logging: { level: "silent" }, accessLog: { mode: "off" }, upstreams: { "demo.v1.UserService": "127.0.0.1:1" } });
    const generation = await buildGeneration(config, await demoGenerated(), configIdentity("c", "r"), shared());
    const exchange = generation.pipeline.begin(head);
    let retired = false;
    const retiring = generation.retire().then(() => (retired = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(retired).toBe(false);
    expect(generation.upstreams.statuses?.().map((status) => status.state)).toEqual(["idle"]);
    generation.pipeline.end(exchange);
    await retiring;
    expect(generation.upstreams.statuses?.().map((status) => status.state)).toEqual(["shutdown"]);
    // Retiring twice is one retirement.
    await generation.retire();
  });

  it("a config it cannot serve fails the build with the reason (a reload is then refused with it)", async () => {
    const config = configFromObject({ logging: { level: "silent" }, accessLog: { mode: "off" }, docs: { enabled: true, path: "/v1/users" } });
    await expect(buildGeneration(config, await demoGenerated(), configIdentity("c", "r"), shared())).rejects.toThrow("/v1/users");
  });
});
