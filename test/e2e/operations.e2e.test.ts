import { loadPackageDefinition, Server, ServerCredentials, status, type GrpcObject, type sendUnaryData, type ServerUnaryCall, type ServiceClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProtogate, waitForListening, type ProtogateProcess } from "./support/processes.js";
import { responseJson } from "./support/request-info.js";

const GOOGLE_PROTOS = join(import.meta.dirname, "../../node_modules/google-proto-files");
const LIBRARY_PROTOS = join(import.meta.dirname, "../fixtures/operations/library");
const LOCATION = "projects/p1/locations/l1";

type Json = Record<string, unknown>;
type Unary = (call: ServerUnaryCall<Json, unknown>, callback: sendUnaryData<unknown>) => void;

/**
 * An API that returns long-running operations, generated from a fixture proto and served by the
 * real `protogate serve`, in front of one grpc-js backend that implements both the API and
 * google.longrunning.Operations (as a Cloud API's backend does). Only the API's service is given
 * an upstream: the operation routes borrow it.
 */
describe("google.longrunning.Operations routes, end to end", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-lro-"));
  const seen: Array<{ method: string; request: Json }> = [];
  /** The backend's operations; an operation is done once it has been polled (no timers). */
  const operations = new Map<string, { name: string; metadata: Json; done: boolean; polled: number; result?: Json; error?: { code: number; message: string } }>();
  let next = 1;
  let server: Server;
  let gateway: ProtogateProcess;
  let base: string;

  beforeAll(async () => {
    const generate = runProtogate(["generate", "--proto", LIBRARY_PROTOS, "--out", join(work, "generated")]);
    expect(await generate.exited, generate.stderr()).toBe(0);

    const definition = loadSync(["lro/v1/library.proto", "google/longrunning/operations.proto"], { includeDirs: [LIBRARY_PROTOS, GOOGLE_PROTOS], longs: String, enums: String, defaults: false });
    const loaded = loadPackageDefinition(definition);
    const library = ((loaded.lro as GrpcObject).v1 as GrpcObject).Library as ServiceClientConstructor;
    const operationsService = ((loaded.google as GrpcObject).longrunning as GrpcObject).Operations as ServiceClientConstructor;

    const record = (method: string, handler: Unary): Unary => (call, callback) => {
      seen.push({ method, request: call.request });
      handler(call, callback);
    };
    const notFound = (name: unknown): Partial<ServiceError> => ({ code: status.NOT_FOUND, details: `operation ${String(name)} not found` });
    // proto-loader packs an object with "@type" into a google.protobuf.Any of that type.
    const toProto = (op: NonNullable<ReturnType<typeof operations.get>>): Json => ({
      name: op.name,
      metadata: op.metadata,
      done: op.done,
      // `result` is a oneof: an error, or else the response.
      ...(op.done ? (op.error ? { error: op.error } : { response: op.result }) : {}),
    });

    server = new Server();
    server.addService(library.service, {
      CreateShelf: record("CreateShelf", (call, callback) => {
        const name = `${String(call.request.parent)}/operations/op-${next++}`;
        const shelf = call.request.shelf as Json;
        const op = {
          name,
          metadata: { "@type": "type.googleapis.com/lro.v1.OperationMetadata", createTime: { seconds: "1767225600", nanos: 0 }, target: `${String(call.request.parent)}/shelves/${String(shelf.theme)}` },
          done: false,
          polled: 0,
          result: { "@type": "type.googleapis.com/lro.v1.Shelf", name: `${String(call.request.parent)}/shelves/${String(shelf.theme)}`, theme: String(shelf.theme) },
        };
        operations.set(name, op);
        callback(null, toProto(op));
      }),
      ExportShelf: record("ExportShelf", (_call, callback) => callback({ code: status.UNIMPLEMENTED, details: "not in this test" }, null)),
      GetShelf: record("GetShelf", (call, callback) => callback(null, { name: call.request.name, theme: "history" })),
    });
    server.addService(operationsService.service, {
      GetOperation: record("GetOperation", (call, callback) => {
        const op = operations.get(String(call.request.name));
        if (!op) return callback(notFound(call.request.name), null);
        op.done = op.polled++ > 0 || op.done;
        callback(null, toProto(op));
      }),
      ListOperations: record("ListOperations", (call, callback) => {
        const all = [...operations.values()].filter((op) => op.name.startsWith(`${String(call.request.name)}/operations/`));
        const size = Number(call.request.pageSize ?? 0) || all.length;
        callback(null, { operations: all.slice(0, size).map(toProto), nextPageToken: all.length > size ? "page-2" : "" });
      }),
      CancelOperation: record("CancelOperation", (call, callback) => {
        const op = operations.get(String(call.request.name));
        if (!op) return callback(notFound(call.request.name), null);
        Object.assign(op, { done: true, error: { code: status.CANCELLED, message: "cancelled by the client" } });
        callback(null, {});
      }),
      DeleteOperation: record("DeleteOperation", (call, callback) => {
        if (!operations.delete(String(call.request.name))) return callback(notFound(call.request.name), null);
        callback(null, {});
      }),
      WaitOperation: record("WaitOperation", (_call, callback) => callback({ code: status.UNIMPLEMENTED, details: "no wait" }, null)),
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));

    gateway = runProtogate(["serve", "--generated", join(work, "generated"), "--upstream", `lro.v1.Library=127.0.0.1:${port}`, "--port", "0", "--admin-port", "0", "--auth", "off"]);
    base = await waitForListening(gateway);
  }, 90_000);

  afterAll(async () => {
    gateway?.child.kill("SIGTERM");
    await gateway?.exited;
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
    rmSync(work, { recursive: true, force: true });
  });

  const createShelf = async (theme: string): Promise<Json> => {
    const response = await fetch(`${base}/v1/${LOCATION}/shelves`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ theme }) });
    expect(response.status).toBe(200);
    return (await response.json()) as Json;
  };

  it("serves the operation routes on the API's own upstream without a warning about google.longrunning.Operations", () => {
    expect(gateway.stderr()).not.toContain("google.longrunning.Operations");
    expect(gateway.stdout()).not.toMatch(/no upstream configured/);
  });

  it("a long-running method returns the Operation, its metadata Any rendered per the JSON mapping", async () => {
    const op = await createShelf("poetry");
    // `done: false` is proto3's default, so the JSON mapping leaves it out.
    expect(op).toEqual({
      name: `${LOCATION}/operations/op-1`,
      metadata: { "@type": "type.googleapis.com/lro.v1.OperationMetadata", createTime: "2026-01-01T00:00:00Z", target: `${LOCATION}/shelves/poetry` },
    });
  });

  it("GET polls the operation until done, with the response Any rendered as the known type", async () => {
    const url = `${base}/v1/${LOCATION}/operations/op-1`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const pending = (await first.json()) as Json;
    expect(pending).toMatchObject({ name: `${LOCATION}/operations/op-1` });
    expect(pending).not.toHaveProperty("done");
    expect(seen.at(-1)).toEqual({ method: "GetOperation", request: { name: `${LOCATION}/operations/op-1` } });

    const second = await fetch(url);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({
      name: `${LOCATION}/operations/op-1`,
      metadata: { "@type": "type.googleapis.com/lro.v1.OperationMetadata", createTime: "2026-01-01T00:00:00Z", target: `${LOCATION}/shelves/poetry` },
      done: true,
      response: { "@type": "type.googleapis.com/lro.v1.Shelf", name: `${LOCATION}/shelves/poetry`, theme: "poetry" },
    });
  });

  it("lists with the page_size and filter query parameters bound to the request", async () => {
    await createShelf("drama");
    const response = await fetch(`${base}/v1/${LOCATION}/operations?pageSize=1&filter=${encodeURIComponent("done=true")}&page_token=abc`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { operations: Json[]; nextPageToken: string };
    expect(body.operations.map((op) => op.name)).toEqual([`${LOCATION}/operations/op-1`]);
    expect(body.nextPageToken).toBe("page-2");
    expect(seen.at(-1)).toEqual({ method: "ListOperations", request: { name: LOCATION, pageSize: 1, filter: "done=true", pageToken: "abc" } });
  });

  it("cancel is POST :cancel with an empty body; the operation then carries the CANCELLED status", async () => {
    const op = await createShelf("science");
    const name = String(op.name);
    const cancel = await fetch(`${base}/v1/${name}:cancel`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toEqual({});
    expect(seen.at(-1)).toEqual({ method: "CancelOperation", request: { name } });
    const after = await fetch(`${base}/v1/${name}`);
    const cancelled = (await after.json()) as Json;
    expect(cancelled).toMatchObject({ name, done: true, error: { code: 1, message: "cancelled by the client" } });
    expect(cancelled).not.toHaveProperty("response");
  });

  it("delete removes the operation; polling it then is a 404 google.rpc.Status from the backend's NOT_FOUND", async () => {
    const op = await createShelf("maps");
    const name = String(op.name);
    const removed = await fetch(`${base}/v1/${name}`, { method: "DELETE" });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({});
    expect(seen.at(-1)).toEqual({ method: "DeleteOperation", request: { name } });
    const gone = await fetch(`${base}/v1/${name}`);
    expect(gone.status).toBe(404);
    expect(await responseJson(gone)).toEqual({ code: 5, message: `operation ${name} not found`, details: [] });
  });

  it("an unknown operation is a 404 google.rpc.Status", async () => {
    const response = await fetch(`${base}/v1/${LOCATION}/operations/nope`);
    expect(response.status).toBe(404);
    expect(await responseJson(response)).toEqual({ code: 5, message: `operation ${LOCATION}/operations/nope not found`, details: [] });
  });

  it("a name outside the scope matches no operation route (404 from the gateway, the backend never sees it)", async () => {
    const calls = seen.length;
    const response = await fetch(`${base}/v1/projects/p1/operations/op-1`);
    expect(response.status).toBe(404);
    expect(seen.length).toBe(calls);
  });

  it("generate --no-operations writes no operation routes", async () => {
    const out = join(work, "without");
    const generate = runProtogate(["generate", "--proto", LIBRARY_PROTOS, "--out", out, "--no-operations"]);
    expect(await generate.exited, generate.stderr()).toBe(0);
    expect(existsSync(join(out, "google/longrunning/operations.routes.js"))).toBe(false);
    expect(readFileSync(join(out, "openapi.json"), "utf8")).not.toContain("Operations_GetOperation");
    expect(existsSync(join(work, "generated/google/longrunning/operations.routes.js"))).toBe(true);
  }, 60_000);
});
