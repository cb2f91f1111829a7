import { status, type Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ListRecommendationsRequest, ListRecommendationsResponse } from "../../generated/demo/v1/recommendation.js";
import { fail, ok, startDemoHarness, violatedFields, type DemoHarness } from "./support/demo-harness.js";

let demo: DemoHarness;
beforeEach(async () => {
  demo = await startDemoHarness();
});
afterEach(async () => {
  await demo.close();
});

const list =
  (request: Partial<ListRecommendationsRequest>) =>
  (metadata: Metadata, callback: (error: ServiceError | null, response: ListRecommendationsResponse) => void) =>
    demo.recommendations.listRecommendations({ userId: "u-1", region: "", pageSize: 0, ...request }, metadata, callback);

describe("demo.v1.RecommendationService.ListRecommendations", () => {
  it("recommends the region's products and those sold everywhere, best first, 3 by default", async () => {
    const response = await ok(list({ region: "eu-west" }));
    expect(response.region).toBe("eu-west");
    expect(response.recommendations.map((r) => r.productId)).toEqual(["sku-ink", "sku-tea", "sku-slide"]);
    expect(response.recommendations[0]).toMatchObject({ title: "Difference Engine ink", reason: "popular in eu-west" });
    const scores = response.recommendations.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("without a region: only products sold everywhere; page_size caps the list", async () => {
    expect((await ok(list({}))).recommendations.map((r) => r.reason)).toEqual(["popular everywhere", "popular everywhere"]);
    expect((await ok(list({ region: "us-east", pageSize: 1 }))).recommendations.map((r) => r.productId)).toEqual(["sku-cobol"]);
  });

  it("an unknown user is NOT_FOUND; an empty user_id or a negative page_size is INVALID_ARGUMENT naming the fields", async () => {
    expect((await fail(list({ userId: "nobody" }))).code).toBe(status.NOT_FOUND);
    const error = await fail(list({ userId: "", pageSize: -1 }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(error)).toEqual(["user_id", "page_size"]);
  });
});
