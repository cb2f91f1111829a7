import type { FastifyInstance, FastifyReply } from "fastify";
import type { PreparedAggregate } from "../../aggregate/compile-aggregate.js";
import type { AnyBinding } from "../../binding.js";
import { ConfigError } from "../../config/load-config.js";
import { findConflicts, namedRoutes } from "../../docs/docs-routes.js";
import { renderRefusal } from "../../errors/error-writer.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import { createStaticResponder, type StaticRoute } from "../../http/static-routes.js";
import { REQUEST_ID_HEADER, requestIdOf, randomRequestId } from "../../observe/request-id.js";
import { readGraphiqlAssets, type GraphiqlAsset } from "./graphiql-assets.js";
import { GRAPHIQL_CONTENT_SECURITY_POLICY, renderGraphiqlPage } from "./graphiql-page.js";

/** What the served GraphiQL page is made of. */
export interface GraphiqlRoutesOptions {
  /** Where the page is served (GET), e.g. `/graphiql`. */
  readonly pagePath: string;
  /** The GraphQL endpoint the page sends queries to, e.g. `/graphql`. */
  readonly endpoint: string;
  /** Where the page's files are served; default `PAGE_PATH/assets`. */
  readonly assetsPath?: string;
  /** The page's title (the API's name). */
  readonly title: string;
  /** The route table: when given, no route may match the page's paths (a ConfigError names the route). */
  readonly bindings?: readonly AnyBinding[];
  /** The aggregate routes, checked like the route table's. */
  readonly aggregates?: readonly PreparedAggregate[];
  /** Test seam: the page's files (default: read from the graphiql, react and react-dom packages). */
  readonly assets?: readonly GraphiqlAsset[];
}

/**
 * The page and its files as static routes, the way the docs are served (src/docs/docs-routes.ts):
 * the gateway's adapter answers them before the pipeline, with an ETag, `no-cache` and 405 for
 * methods other than GET and HEAD (src/http/static-routes.ts). Like the docs, the page never moves
 * out of a generated route's way: a route matching one of its paths is a start-up error.
 */
export function createGraphiqlRoutes(options: GraphiqlRoutesOptions): StaticRoute[] {
  const assetsPath = options.assetsPath ?? `${options.pagePath}/assets`;
  const page = renderGraphiqlPage({ title: options.title, endpoint: options.endpoint, assetsPath });
  const routes: (StaticRoute & { readonly key: string })[] = [
    {
      key: "graphql.graphiqlPath",
      path: options.pagePath,
      body: Buffer.from(page),
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": GRAPHIQL_CONTENT_SECURITY_POLICY, "referrer-policy": "no-referrer" },
    },
    ...(options.assets ?? readGraphiqlAssets()).map((asset) => ({
      key: "graphql.graphiqlPath",
      path: `${assetsPath}/${asset.name}`,
      body: asset.body,
      headers: { "content-type": asset.contentType },
    })),
  ];
  const conflicts = options.bindings === undefined ? [] : findConflicts(routes, namedRoutes(options.bindings, options.aggregates ?? []));
  if (conflicts.length > 0) {
    throw new ConfigError(`the GraphiQL page would hide routes: ${conflicts.join("; ")}. Set graphql.graphiqlPath to a path no route matches, or turn the page off`);
  }
  return routes.map(({ path, body, headers }) => ({ path, body, headers }));
}

/** Every method a static route answers (405 for all but GET and HEAD, from its responder). */
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/**
 * Serves the page on a Fastify instance of its own (a stand-alone server, a test), with the same
 * responders the gateway's adapter uses, and a `google.rpc.Status` 404 for any other path under
 * the assets path. Inside the gateway, hand `createGraphiqlRoutes` to the adapter's static routes
 * instead, so the page's requests are logged and counted like every other.
 */
export function registerGraphiqlRoutes(app: FastifyInstance, options: GraphiqlRoutesOptions): void {
  const assetsPath = options.assetsPath ?? `${options.pagePath}/assets`;
  const routes = createGraphiqlRoutes(options);
  // A scope of its own: its body rule (a body is never read, whatever its type, so a POST gets
  // its 405 rather than a 415) stays out of the rest of the instance.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
    for (const route of routes) {
      const respond = createStaticResponder(route);
      scope.route({
        method: [...METHODS],
        url: route.path,
        exposeHeadRoute: false,
        handler: (request, reply) => {
          const requestId = requestIdOf(request.headers[REQUEST_ID_HEADER], randomRequestId);
          const answer = respond(request.method, request.headers["if-none-match"]);
          if (answer instanceof GatewayError) return sendError(reply, answer, requestId);
          return reply.code(answer.status).headers({ ...answer.headers, [REQUEST_ID_HEADER]: requestId }).send(answer.body);
        },
      });
    }
    scope.route({
      method: [...METHODS],
      url: `${assetsPath}/*`,
      exposeHeadRoute: false,
      handler: (request, reply) => {
        const path = request.url.split("?")[0] ?? "";
        const notFound = new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", `no GraphiQL file at ${path.slice(0, 128)}`);
        return sendError(reply, notFound, requestIdOf(request.headers[REQUEST_ID_HEADER], randomRequestId));
      },
    });
  });
}

/** A `google.rpc.Status` answer, by the gateway's error writer (a Buffer, so Fastify adds no charset to its Content-Type). */
function sendError(reply: FastifyReply, error: GatewayError, requestId: string): FastifyReply {
  const rendered = renderRefusal(error, requestId);
  return reply.code(rendered.status).headers(rendered.headers).send(Buffer.from(rendered.body));
}
