import type { ListRecommendationsRequest, ListRecommendationsResponse, Recommendation, RecommendationServiceServer } from "../../generated/demo/v1/recommendation.js";
import type { DemoStore } from "./demo-store.js";
import { assertNoViolations, invalidArgument, notFound, type FieldViolation } from "./rpc-error.js";
import { unaryHandler } from "./unary-handler.js";

const DEFAULT_RECOMMENDATIONS = 3;
const MAX_RECOMMENDATIONS = 20;

/** A product of the demo catalogue: sold everywhere (no regions) or in some regions only. */
interface Product {
  readonly productId: string;
  readonly title: string;
  readonly score: number;
  readonly regions: readonly string[];
}

/** The catalogue recommendations come from, best first within a region. */
const CATALOGUE: readonly Product[] = [
  { productId: "sku-ink", title: "Difference Engine ink", score: 0.97, regions: ["eu-west"] },
  { productId: "sku-tea", title: "Earl Grey, loose leaf", score: 0.93, regions: ["eu-west"] },
  { productId: "sku-cobol", title: "COBOL pocket reference", score: 0.91, regions: ["us-east"] },
  { productId: "sku-slide", title: "Slide rule, 10 inch", score: 0.88, regions: [] },
  { productId: "sku-punch", title: "Punched cards (box of 500)", score: 0.84, regions: [] },
  { productId: "sku-orbit", title: "Orbital mechanics primer", score: 0.8, regions: ["us-east"] },
  { productId: "sku-enigma", title: "Rotor cipher kit", score: 0.76, regions: ["eu-west"] },
];

/** demo.v1.RecommendationService over a demo store: products for the user's region, best first. */
export function createRecommendationService(store: DemoStore): RecommendationServiceServer {
  return {
    listRecommendations: unaryHandler((request) => listRecommendations(store, request)),
  };
}

function listRecommendations(store: DemoStore, request: ListRecommendationsRequest): ListRecommendationsResponse {
  const violations: FieldViolation[] = [];
  if (request.userId === "") violations.push({ field: "user_id", description: "must not be empty" });
  if (request.pageSize < 0) violations.push({ field: "page_size", description: `must not be negative (got ${request.pageSize})` });
  assertNoViolations(violations);
  if (!store.users.has(request.userId)) throw notFound(`user "${request.userId}" not found`);
  if (request.region.length > 64) throw invalidArgument([{ field: "region", description: "at most 64 characters" }]);
  const size = request.pageSize === 0 ? DEFAULT_RECOMMENDATIONS : Math.min(request.pageSize, MAX_RECOMMENDATIONS);
  const recommendations: Recommendation[] = CATALOGUE.filter((product) => product.regions.length === 0 || product.regions.includes(request.region))
    .slice(0, size)
    .map((product) => ({
      productId: product.productId,
      title: product.title,
      score: product.score,
      reason: product.regions.length === 0 ? "popular everywhere" : `popular in ${request.region}`,
    }));
  return { recommendations, region: request.region };
}
