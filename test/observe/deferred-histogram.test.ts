import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DeferredHistogram } from "../../src/observe/metrics/deferred-histogram.js";

describe("DeferredHistogram", () => {
  it.each([
    { value: 0.0005, buckets: "1 1 1" },
    { value: 0.001, buckets: "1 1 1" }, // on a bound: counted in it (le is inclusive)
    { value: 0.0011, buckets: "0 1 1" },
    { value: 0.01, buckets: "0 1 1" },
    { value: 5, buckets: "0 0 1" },
  ])("an observation of $value s lands in cumulative buckets $buckets (le 0.001, 0.01, +Inf)", async ({ value, buckets }) => {
    const registry = new Registry();
    const histogram = new DeferredHistogram(registry, "h_seconds", "test", ["route"], [0.01, 0.001]);
    histogram.record(histogram.series({ route: "/a" }), value);
    const page = await registry.metrics();
    const counts = ["0.001", "0.01", "+Inf"].map((le) => new RegExp(`^h_seconds_bucket\\{le="${le.replace("+", "\\+")}",route="/a"\\} (\\d+)$`, "m").exec(page)?.[1]);
    expect(counts.join(" ")).toBe(buckets);
    expect(page).toMatch(/^h_seconds_count\{route="\/a"\} 1$/m);
    expect(page).toContain(`h_seconds_sum{route="/a"} ${value}`);
    expect(page).toContain("# TYPE h_seconds histogram");
  });

  it("a series with no observation is not shown", async () => {
    const registry = new Registry();
    const histogram = new DeferredHistogram(registry, "h_seconds", "test", ["route"], [1]);
    histogram.series({ route: "/a" });
    expect(await registry.metrics()).not.toContain("h_seconds_count");
  });
});
