/** The dashboard benchmark's requests (bench/dashboard.ts): the aggregate route, and the three REST calls it stands for. */
export type DashboardMode = "aggregate" | "rest";

export const DASHBOARD_USER = "u-1";

export const DASHBOARD_PATHS = {
  /** The demo's mobileDashboard aggregate (src/demo/dashboard-aggregate.ts). */
  aggregate: `/api/mobile/dashboard/${DASHBOARD_USER}`,
  /** What its calls ask for, as REST calls with the same requests. */
  user: `/v1/users/${DASHBOARD_USER}`,
  orders: `/v1/users/${DASHBOARD_USER}/orders?pageSize=5&newestFirst=true`,
  recommendations: (region: string) => `/v1/users/${DASHBOARD_USER}/recommendations?region=${encodeURIComponent(region)}&pageSize=3`,
} as const;
