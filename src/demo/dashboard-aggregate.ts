/**
 * The demo's aggregate route (as it would be written under `aggregates:` in gateway.yaml): a
 * mobile dashboard that costs one round trip instead of three. The profile, the five most recent
 * orders and the recommendations for the user's region; the recommendations read the user's
 * `region`, so they run after GetUser, in parallel with ListOrders.
 */
export const DASHBOARD_AGGREGATE = {
  name: "mobileDashboard",
  path: "/api/mobile/dashboard/{userId}",
  // Any authenticated caller; each call also needs what its own method's rule asks.
  auth: { scopes: [] },
  deadlineMs: 2000,
  calls: {
    user: {
      rpc: "demo.v1.UserService.GetUser",
      request: { user_id: { path: "userId" } },
      select: ["userId", "displayName", "region"],
      rename: { displayName: "name" },
    },
    orders: {
      rpc: "demo.v1.OrderService.ListOrders",
      request: { parent: { cel: "'users/' + path.userId" }, page_size: { const: 5 }, newest_first: { const: true } },
      select: ["orders.name", "orders.state", "orders.total", "orders.createTime"],
      deadlineMs: 1000,
      onError: "partial",
    },
    recommendations: {
      rpc: "demo.v1.RecommendationService.ListRecommendations",
      request: { user_id: { path: "userId" }, region: { from: "user.region" }, page_size: { const: 3 } },
      select: ["recommendations.productId", "recommendations.title"],
      rename: { "recommendations.productId": "id" },
      onError: { default: { recommendations: [] } },
    },
  },
} as const;
