/**
 * The starter files `protogate init` writes. Constants rather than files on disk, so the compiled
 * package needs no template folder to locate.
 */

/** The example service, its address in gateway.yaml, and the port the gateway listens on. */
export const EXAMPLE_SERVICE = "greeter.v1.GreeterService";
export const EXAMPLE_PROTO_PATH = "proto/greeter/v1/greeter.proto";
export const EXAMPLE_UPSTREAM = "127.0.0.1:50051";
export const EXAMPLE_LISTEN = { host: "127.0.0.1", port: 8080 } as const;
/** A route of the example proto, for the curl that `init` prints. */
export const EXAMPLE_ROUTE = "/v1/greetings/world";

export const BUF_YAML = `# buf's module configuration, written by \`protogate init\`, for buf's own tools (buf lint,
# buf format, buf breaking, editors). \`protogate generate\` does not read it: it compiles every
# .proto under proto/ and takes google/api/*.proto from the google-proto-files package.
# Before running buf lint, fetch the googleapis dependency once: npx buf dep update
version: v2
modules:
  - path: proto
deps:
  - buf.build/googleapis/googleapis
lint:
  use:
    - STANDARD
breaking:
  use:
    - FILE
`;

export const EXAMPLE_PROTO = `syntax = "proto3";

// An example gRPC service with REST bindings, written by \`protogate init\`. Replace it with your
// own protos: \`protogate generate\` compiles every .proto under proto/ into generated/.
package greeter.v1;

import "google/api/annotations.proto";

service GreeterService {
  // GET /v1/greetings/world: the path fills the request's \`name\`; other fields come from the
  // query string (GET /v1/greetings/world?greeting=Hi).
  // POST /v1/greetings with the request as its JSON body: {"name": "world", "greeting": "Hi"}.
  //
  // Every method needs an authenticated caller by default (see auth in gateway.yaml). To open
  // one to anyone, import "protogate/v1/auth.proto" and add
  // option (protogate.v1.rule) = {public: true};
  rpc SayHello(SayHelloRequest) returns (SayHelloResponse) {
    option (google.api.http) = {
      get: "/v1/greetings/{name}"
      additional_bindings {
        post: "/v1/greetings"
        body: "*"
      }
    };
  }
}

message SayHelloRequest {
  // Who to greet.
  string name = 1;
  // The word to greet with; the server picks one when empty.
  string greeting = 2;
}

message SayHelloResponse {
  string message = 1;
}
`;

/** gateway.yaml, with the SHA-256 of the development API key that `init` generated (never the key). */
export function gatewayYaml(devKeySha256: string): string {
  return `# Protogate's configuration, written by \`protogate init\`. Relative paths are relative to
# this file. Start the gateway with: npx protogate serve --config gateway.yaml
server:
  host: ${EXAMPLE_LISTEN.host}
  port: ${EXAMPLE_LISTEN.port}

# The folder \`protogate generate\` writes.
generated: generated

# Where each gRPC service runs: fully qualified service name -> HOST:PORT.
upstreams:
  ${EXAMPLE_SERVICE}: ${EXAMPLE_UPSTREAM}

# The API docs page (/docs) and the OpenAPI document (/openapi.json).
docs:
  enabled: true

# Authentication is on: a method needs a caller unless its proto rule makes it public.
# \`protogate init\` generated one development API key and printed it once; only its SHA-256 is
# here. Send it as the header x-api-key: KEY. Another key:
#   KEY=$(openssl rand -hex 24); printf %s "$KEY" | sha256sum
# Before deploying, replace it with your own keys or JWT issuers (auth.jwt). For local work
# only, \`protogate serve --auth off\` turns authentication off.
auth:
  apiKeys:
    keys:
      - sha256: ${devKeySha256}
        consumer: dev
`;
}
