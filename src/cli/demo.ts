import { fileURLToPath } from "node:url";
import { startGateway } from "../app.js";
import { loadConfig } from "../config/load-config.js";
import { startDemoBackends } from "../demo/index.js";
import { waitForShutdown } from "./serve.js";

const DEMO_GENERATED = fileURLToPath(new URL("../../generated", import.meta.url));

/**
 * `protogate demo` (what `npm start` runs): the bundled demo gRPC services on a free loopback
 * port, and the gateway in front of them with embedded defaults (no Redis, nothing external).
 */
export async function runDemo(options: { host: string; port: number }): Promise<number> {
  const backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
  const upstreams = Object.fromEntries(backends.services.map((service) => [service, backends.address]));
  const config = loadConfig(undefined, { host: options.host, port: options.port, generated: DEMO_GENERATED, upstreams });
  let gateway;
  try {
    gateway = await startGateway(config);
  } catch (error) {
    await backends.close();
    throw error;
  }
  const base = gateway.url;
  console.log(`protogate listening on ${base}`);
  console.log(`demo gRPC services (${backends.services.join(", ")}) on ${backends.address}`);
  console.log("\nTry:");
  for (const line of demoCurlLines(base)) console.log(`  ${line}`);
  console.log("\nOpenAPI document: generated/openapi.json. Ctrl-C stops.");
  return waitForShutdown(gateway, () => backends.close());
}

/** The curl lines the demo prints; the e2e suite runs each of them against a live demo. */
export function demoCurlLines(base: string): string[] {
  return [
    `curl -s ${base}/v1/users/u-1`,
    `curl -s '${base}/v1/users?pageSize=2&role=ROLE_MEMBER'`,
    `curl -s -X POST ${base}/v1/users -H 'content-type: application/json' -d '{"displayName":"Ada","email":"ada@example.com"}'`,
    `curl -s ${base}/v1/users/u-1/orders/o-1`,
    `curl -s -X POST ${base}/v1/users/u-1/orders/o-1:cancel -H 'content-type: application/json' -d '{"reason":"changed my mind"}'`,
    `curl -s ${base}/v1/payments/p-1/receipt`,
    `curl -s -i ${base}/v1/users/nobody`,
  ];
}
