import { describe, expect, it } from "vitest";
import { configFromObject } from "../../src/config/load-config.js";
import { changedListenerSettings } from "../../src/reload/listener-settings.js";

const active = configFromObject({ server: { port: 8080 }, upstreams: { "a.v1.S": "127.0.0.1:1" } });

describe("the settings a reload cannot change", () => {
  it.each([
    ["nothing", {}, []],
    ["what a generation is built from (upstreams, limits, auth, logging, the route table)", { upstreams: { "a.v1.S": "127.0.0.1:2" }, logging: { level: "debug" }, generated: "elsewhere", auth: { mode: "off" }, deadlines: { defaultMs: 5 } }, []],
    ["the listen address", { server: { port: 8081, host: "0.0.0.0" } }, ["server.host", "server.port"]],
    ["TLS of the listener", { server: { port: 8080, tls: { certFile: "c.pem", keyFile: "k.pem" } } }, ["server.tls"]],
    ["a limit of the listener", { server: { port: 8080, drainTimeoutMs: 1 } }, ["server.drainTimeoutMs"]],
    ["the admin listener", { admin: { port: 0 } }, ["admin.port"]],
    ["CORS turned on", { cors: { origins: "*" } }, ["cors"]],
    ["the docs", { docs: { enabled: true } }, ["docs.enabled"]],
    ["the GraphiQL page (its paths are registered at start)", { graphql: { enabled: true, graphiql: true, graphiqlPath: "/gql-ui" } }, ["graphql.graphiql", "graphql.graphiqlPath"]],
    ["the GraphQL endpoint itself (a route of a generation)", { graphql: { enabled: true, maxDepth: 3, federation: true } }, []],
  ])("%s", (_name, settings, changed) => {
    const next = configFromObject({ server: { port: 8080 }, upstreams: { "a.v1.S": "127.0.0.1:1" }, ...settings });
    expect(changedListenerSettings(active, next)).toEqual(changed);
  });
});
