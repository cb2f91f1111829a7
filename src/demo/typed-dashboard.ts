import { OrderServiceService, OrderState } from "../../generated/demo/v1/order.js";
import { RecommendationServiceService } from "../../generated/demo/v1/recommendation.js";
import { UserServiceService } from "../../generated/demo/v1/user.js";
import { defineAggregate } from "../aggregate/typed/define-aggregate.js";

/**
 * The demo's typed aggregate (gateway.yaml: `{name: typedDashboard, path:
 * /api/typed/dashboard/{userId}, module: ./typed-dashboard.js}`): the mobile dashboard with logic
 * the `calls:` config cannot express: recommendations only for a user with open (pending) orders,
 * and a count of those orders. Request and response types come from the method references.
 */
export default defineAggregate(async (ctx) => {
  const userId = ctx.path.userId ?? "";
  const [user, orders] = await Promise.all([
    ctx.call(UserServiceService.getUser, { userId }),
    ctx.call(OrderServiceService.listOrders, { parent: `users/${userId}`, pageSize: 5, newestFirst: true }, { onError: "partial", key: "orders", deadlineMs: 1000 }),
  ]);
  const pending = orders?.orders.filter((order) => order.state === OrderState.ORDER_STATE_PENDING) ?? [];
  const recommendations =
    pending.length === 0
      ? undefined
      : await ctx.call(RecommendationServiceService.listRecommendations, { userId, region: user.region, pageSize: 3 }, { onError: { default: { recommendations: [] } } });
  return {
    user: { userId: user.userId, name: user.displayName, region: user.region },
    ...(orders !== undefined && { pendingOrders: pending.length, orders: ctx.json(OrderServiceService.listOrders, orders) }),
    ...(recommendations !== undefined && { recommendations: recommendations.recommendations.map((r) => ({ id: r.productId, title: r.title })) }),
  };
});
