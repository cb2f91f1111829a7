import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { ChatServiceService } from "../../generated/demo/v1/chat.js";
import { OrderServiceService } from "../../generated/demo/v1/order.js";
import { PaymentServiceService } from "../../generated/demo/v1/payment.js";
import { RecommendationServiceService } from "../../generated/demo/v1/recommendation.js";
import { UserServiceService } from "../../generated/demo/v1/user.js";
import { createChatRooms } from "./chat-rooms.js";
import { createChatService } from "./chat-service.js";
import { createDemoStore } from "./demo-store.js";
import { createOrderService } from "./order-service.js";
import { createPaymentService } from "./payment-service.js";
import { createRecommendationService } from "./recommendation-service.js";
import { createUserService } from "./user-service.js";

export interface DemoBackendsOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port (default 0: a free one). */
  port?: number;
  /** The clock of create and post times (default: the system clock). */
  now?: () => Date;
  /** Hears of every call as it arrives, by gRPC path (tests count the calls a gateway makes). */
  onCall?: (rpcPath: string) => void;
}

/** A running demo gRPC server. */
export interface DemoBackends {
  /** `host:port` of the server (IPv6 hosts in brackets). */
  readonly address: string;
  /** Fully qualified names of the served services, e.g. "demo.v1.UserService". */
  readonly services: string[];
  /** Stops the server; in-flight calls get a short grace period. */
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 2_000;

/** The ts-proto definitions of the demo's services (each method's path and streaming kinds). */
export const DEMO_SERVICE_DEFINITIONS = [UserServiceService, OrderServiceService, PaymentServiceService, ChatServiceService, RecommendationServiceService] as const;

/**
 * Starts demo.v1.UserService, OrderService, PaymentService, ChatService and RecommendationService on one grpc-js server,
 * over a fresh in-memory store seeded with users u-1..u-4, orders o-1..o-3 and payment p-1, and
 * empty chat rooms (created on first use, each keeping its last 100 messages).
 */
export async function startDemoBackends(options: DemoBackendsOptions = {}): Promise<DemoBackends> {
  const host = options.host ?? "127.0.0.1";
  const store = createDemoStore({ now: options.now });
  const server = new Server();
  const add = (definition: ServiceDefinition, implementation: UntypedServiceImplementation) =>
    server.addService(definition, options.onCall === undefined ? implementation : observed(definition, implementation, options.onCall));
  add(UserServiceService, createUserService(store));
  add(OrderServiceService, createOrderService(store));
  add(PaymentServiceService, createPaymentService(store));
  add(ChatServiceService, createChatService(createChatRooms({ now: store.now })));
  add(RecommendationServiceService, createRecommendationService(store));
  const bindHost = host.includes(":") ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${bindHost}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `${bindHost}:${port}`,
    services: DEMO_SERVICE_DEFINITIONS.map(serviceName),
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

/** A service's handlers, each telling `onCall` of its call before it runs. */
function observed(definition: ServiceDefinition, implementation: UntypedServiceImplementation, onCall: (rpcPath: string) => void): UntypedServiceImplementation {
  const wrapped: UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(implementation)) {
    const path = definition[name]?.path ?? name;
    // Boundary: grpc-js types each handler by its kind; every kind takes the call first.
    wrapped[name] = ((call: unknown, ...rest: unknown[]) => {
      onCall(path);
      return (handler as (...args: unknown[]) => unknown)(call, ...rest);
    }) as typeof handler;
  }
  return wrapped;
}

/** "demo.v1.UserService" from a ts-proto service definition (its methods' paths). */
function serviceName(definition: Record<string, { path: string }>): string {
  const path = Object.values(definition)[0].path;
  return path.slice(1, path.lastIndexOf("/"));
}
