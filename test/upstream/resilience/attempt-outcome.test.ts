import { describe, expect, it } from "vitest";
import { mayRetry, verdictOf } from "../../../src/upstream/resilience/attempt-outcome.js";
import { FAILURES, type FailureKind } from "./fake-upstreams.js";

describe("what a failed attempt says", () => {
  it.each<[FailureKind, "failure" | "answered" | "neutral", boolean, boolean]>([
    // failure, verdict, retried when idempotent, retried otherwise
    ["refused", "failure", true, false],
    ["reset", "failure", true, false],
    ["unavailable", "failure", true, false],
    ["unavailableAfterHeaders", "failure", false, false],
    ["notFound", "answered", false, false],
    ["deadline", "neutral", false, false],
    ["cancelled", "neutral", false, false],
    ["protocol", "neutral", false, false],
  ])("%s: %s; idempotent retried %s; non-idempotent retried %s", (kind, verdict, idempotent, other) => {
    const error = FAILURES[kind]();
    expect(verdictOf(error)).toBe(verdict);
    expect(mayRetry(error, true)).toBe(idempotent);
    expect(mayRetry(error, false)).toBe(other);
  });

  it("anything but an UpstreamError is neutral and never retried", () => {
    expect(verdictOf(new Error("bug"))).toBe("neutral");
    expect(mayRetry(new Error("bug"), true)).toBe(false);
  });
});
