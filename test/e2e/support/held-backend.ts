import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { OrderServiceService } from "../../../generated/demo/v1/order.js";
import { RecommendationServiceService } from "../../../generated/demo/v1/recommendation.js";
import { UserServiceService } from "../../../generated/demo/v1/user.js";

/** One call the backend received. */
export interface HeldCall {
  readonly rpc: string;
  readonly request: Record<string, unknown>;
  readonly metadata: Metadata;
  /** Answers the call (a ts-proto object; fields left out take their defaults). */
  reply(response: Record<string, unknown>): void;
  /** Fails the call with a gRPC status. */
  fail(code: status, details: string): void;
  /** Resolves when the client cancels the call (grpc-js's `cancelled` event). */
  readonly cancelled: Promise<void>;
}

/**
 * A grpc-js backend of the demo's UserService, OrderService and RecommendationService whose calls
 * are held until the test answers them: the test waits for a call to arrive (an event), and
 * decides when and how it ends. `log` records arrivals and answers in order.
 */
export interface HeldBackend {
  readonly address: string;
  readonly services: readonly string[];
  /** Arrivals (`> Rpc`) and the test's answers (`< Rpc`), in order. */
  readonly log: string[];
  /** Every call received so far. */
  readonly calls: readonly HeldCall[];
  /** The next call of `rpc` (or one that already arrived and was not taken yet). */
  arrival(rpc: string): Promise<HeldCall>;
  close(): Promise<void>;
}

const DEFINITIONS = [UserServiceService, OrderServiceService, RecommendationServiceService] as const;

export async function startHeldBackend(): Promise<HeldBackend> {
  const log: string[] = [];
  const calls: HeldCall[] = [];
  const untaken = new Map<string, HeldCall[]>();
  const waiting = new Map<string, Array<(call: HeldCall) => void>>();
  const server = new Server();
  for (const definition of DEFINITIONS) {
    const implementation: UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      implementation[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const rpc = method.path.slice(method.path.lastIndexOf("/") + 1);
        log.push(`> ${rpc}`);
        const cancelled = new Promise<void>((resolve) => call.on("cancelled", () => resolve()));
        const held: HeldCall = {
          rpc,
          cancelled,
          request: call.request as Record<string, unknown>,
          metadata: call.metadata,
          reply: (response) => {
            log.push(`< ${rpc}`);
            callback(null, { ...(method.responseDeserialize(Buffer.alloc(0)) as object), ...response });
          },
          fail: (code, details) => {
            log.push(`< ${rpc} ${status[code]}`);
            callback({ code, details });
          },
        };
        calls.push(held);
        const waiter = waiting.get(rpc)?.shift();
        if (waiter !== undefined) waiter(held);
        else untaken.set(rpc, [...(untaken.get(rpc) ?? []), held]);
      };
    }
    server.addService(definition, implementation);
  }
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return {
    address: `127.0.0.1:${port}`,
    services: ["demo.v1.UserService", "demo.v1.OrderService", "demo.v1.RecommendationService"],
    log,
    calls,
    arrival(rpc) {
      const ready = untaken.get(rpc)?.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve) => waiting.set(rpc, [...(waiting.get(rpc) ?? []), resolve]));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
