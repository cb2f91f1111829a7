import { describe, expect, it } from "vitest";
import { upstreamServiceOf } from "../../src/upstream/upstream-service.js";

const OPERATIONS = "google.longrunning.Operations";
const API = "lro.v1.Library";


describe("upstreamServiceOf", () => {
  it.each<[string, { service: string; upstreamServices?: string[] }, string[], string]>([
    ["an API route uses its own service", { service: API }, [API], API],
    ["an API route without an upstream still names its own service (it answers 503)", { service: API }, [], API],
    ["an operation route borrows the API's upstream", { service: OPERATIONS, upstreamServices: [API] }, [API], API],
    ["an explicit google.longrunning.Operations upstream wins", { service: OPERATIONS, upstreamServices: [API] }, [API, OPERATIONS], OPERATIONS],
    ["with neither configured, the API's name (its missing upstream is what to configure)", { service: OPERATIONS, upstreamServices: [API] }, [], API],
    ["the first configured of several candidates", { service: OPERATIONS, upstreamServices: ["a.v1.Jobs", API, "b.v1.Other"] }, ["b.v1.Other", API], API],
    ["a later candidate when the earlier ones are not configured", { service: OPERATIONS, upstreamServices: ["a.v1.Jobs", API] }, [API], API],
    ["an operation route of operations.proto's own rules without an owner", { service: OPERATIONS }, [API], OPERATIONS],
  ])("%s", (_, binding, configured, expected) => {
    expect(upstreamServiceOf(binding, (service) => configured.includes(service))).toBe(expected);
  });
});
