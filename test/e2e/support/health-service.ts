import { join } from "node:path";
import { loadPackageDefinition, type ServiceDefinition, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { Changes } from "../../support/until.js";

const HEALTH_PROTO = join(import.meta.dirname, "../../fixtures/health/health.proto");

/** `HealthCheckResponse.ServingStatus` names, as proto-loader takes enums. */
export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/**
 * A grpc.health.v1.Health service (loaded from the test fixture) answering `statusOf(service)`;
 * it records the checks, and `checked(count)` resolves once `count` have arrived.
 */
export function healthService(statusOf: (service: string) => ServingStatus): {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
  checks: string[];
  checked(count: number): Promise<void>;
} {
  const definition = loadSync(HEALTH_PROTO, { enums: String, defaults: true });
  const health = (loadPackageDefinition(definition).grpc as unknown as { health: { v1: { Health: { service: ServiceDefinition } } } }).health.v1.Health;
  const checks: string[] = [];
  const arrivals = new Changes();
  return {
    definition: health.service,
    checks,
    checked: (count) => arrivals.until(() => checks.length >= count),
    implementation: {
      check: (call: ServerUnaryCall<{ service: string }, unknown>, callback: sendUnaryData<unknown>) => {
        checks.push(call.request.service);
        arrivals.changed();
        callback(null, { status: statusOf(call.request.service) });
      },
    },
  };
}
