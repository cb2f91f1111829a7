import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shortestFloat32 } from "../../../src/transcode/json/float32.js";
import { fuzzRuns } from "../../support/fuzz.js";

describe("shortestFloat32", () => {
  it.each([
    [0.1, 0.1],
    [Math.fround(0.1), 0.1],
    [Math.fround(1 / 3), 0.33333334],
    [Math.fround(3.4028234663852886e38), 3.4028235e38],
    [Math.fround(1e-45), 1e-45],
    [100, 100],
    [0, 0],
  ])("%s -> %s", (value, shortest) => {
    expect(shortestFloat32(value)).toBe(shortest);
  });

  it("reads back as the same float32 and is never longer than 9 significant digits", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        const shortest = shortestFloat32(f);
        expect(Object.is(Math.fround(shortest), f) || (f === 0 && shortest === 0)).toBe(true);
        const digits = String(shortest).replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
        expect(digits.length).toBeLessThanOrEqual(9);
      }),
      fuzzRuns(100),
    );
  });
});
