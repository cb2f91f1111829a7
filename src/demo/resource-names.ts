/** A parsed order resource name `users/{user}/orders/{order}`. */
export interface OrderName {
  readonly userId: string;
  readonly orderId: string;
}

const USER_PARENT = /^users\/([^/]+)$/;
const ORDER_NAME = /^users\/([^/]+)\/orders\/([^/]+)$/;

/** The user id of a `users/{user}` parent, or undefined when it has another shape. */
export function parseUserParent(parent: string): string | undefined {
  return USER_PARENT.exec(parent)?.[1];
}

/** The parts of `users/{user}/orders/{order}`, or undefined when it has another shape. */
export function parseOrderName(name: string): OrderName | undefined {
  const match = ORDER_NAME.exec(name);
  return match ? { userId: match[1], orderId: match[2] } : undefined;
}

/** Builds `users/{user}/orders/{order}`. */
export function formatOrderName(userId: string, orderId: string): string {
  return `users/${userId}/orders/${orderId}`;
}
