/**
 * The Redis suites' `describe`: each suite starts its own `redis-server` (see redis-process.ts).
 * Without `redis-server` on PATH the Redis suites are skipped with a loud message, unless
 * `PROTOGATE_REQUIRE_REDIS=1` (CI) makes that a failure.
 */
import { describe, it } from "vitest";
import { redisAvailability } from "./redis-process.js";

export * from "./redis-process.js";

/**
 * `describe` for a suite that needs a real Redis: runs it when `redis-server` is here; otherwise
 * skips it with a loud console message, or, when `PROTOGATE_REQUIRE_REDIS=1`, fails it.
 */
export function describeWithRedis(name: string, body: () => void, options: { cluster?: boolean } = {}): void {
  const availability = redisAvailability(options);
  if (availability.available) {
    describe(name, body);
    return;
  }
  if (process.env.PROTOGATE_REQUIRE_REDIS === "1") {
    describe(name, () => {
      it("has a real Redis to test against (PROTOGATE_REQUIRE_REDIS=1)", () => {
        throw new Error(`PROTOGATE_REQUIRE_REDIS=1 but this suite cannot run: ${availability.reason}`);
      });
    });
    return;
  }
  const bar = "!".repeat(100);
  console.warn(`\n${bar}\n!!! SKIPPED "${name}": ${availability.reason}.\n!!! Set PROTOGATE_REQUIRE_REDIS=1 to make this a failure (CI does).\n${bar}\n`);
  describe.skip(name, body);
}
