import { loadPackageDefinition, Server, ServerCredentials, type GrpcObject, type sendUnaryData, type ServerUnaryCall, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/** A running gRPC server of the example service `protogate init` writes, and what it was asked. */
export interface GreeterBackend {
  readonly address: string;
  readonly requests: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Serves greeter.v1.GreeterService from the proto file `protogate init` wrote (loaded with
 * @grpc/proto-loader, independently of protogate's codegen) on a free loopback port.
 */
export async function startGreeterBackend(protoRoot: string, googleProtoRoot: string): Promise<GreeterBackend> {
  const definition = loadSync("greeter/v1/greeter.proto", { includeDirs: [protoRoot, googleProtoRoot], defaults: false });
  const greeter = ((loadPackageDefinition(definition).greeter as GrpcObject).v1 as GrpcObject).GreeterService as ServiceClientConstructor;
  const requests: Array<Record<string, unknown>> = [];
  const server = new Server();
  server.addService(greeter.service, {
    SayHello: (call: ServerUnaryCall<{ name?: string; greeting?: string }, unknown>, callback: sendUnaryData<{ message: string }>) => {
      requests.push(call.request);
      callback(null, { message: `${call.request.greeting || "Hello"}, ${call.request.name ?? ""}!` });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return {
    address: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
