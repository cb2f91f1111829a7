import { loadPackageDefinition, Server, ServerCredentials, status, type GrpcObject, type sendUnaryData, type ServerUnaryCall, type ServiceClientConstructor, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProtogate, waitForListening, type ProtogateProcess } from "./support/processes.js";
import { responseJson } from "./support/request-info.js";

const GOOGLE_PROTOS = join(import.meta.dirname, "../../node_modules/google-proto-files");

/**
 * Another team's protos, end to end: Google's own pubsub.proto, generated into a folder outside
 * the project and served by the real `protogate serve`, in front of a Publisher implemented
 * independently with @grpc/proto-loader.
 */
describe("generate + serve on google/pubsub/v1/pubsub.proto", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-pubsub-"));
  const seen: Array<{ method: string; request: Record<string, unknown> }> = [];
  let server: Server;
  let gateway: ProtogateProcess;
  let base: string;

  beforeAll(async () => {
    const protoDir = join(work, "protos");
    mkdirSync(join(protoDir, "google/pubsub"), { recursive: true });
    cpSync(join(GOOGLE_PROTOS, "google/pubsub/v1"), join(protoDir, "google/pubsub/v1"), { recursive: true });
    const generate = runProtogate(["generate", "--proto", protoDir, "--out", join(work, "generated")]);
    expect(await generate.exited, generate.stderr()).toBe(0);

    const definition = loadSync("google/pubsub/v1/pubsub.proto", { includeDirs: [GOOGLE_PROTOS], longs: String, enums: String, defaults: false });
    const pubsub = (loadPackageDefinition(definition).google as GrpcObject).pubsub as GrpcObject;
    const publisher = (pubsub.v1 as GrpcObject).Publisher as ServiceClientConstructor;
    const topic = (name: string) => ({ name, labels: { team: "core" }, messageRetentionDuration: { seconds: "600", nanos: 0 }, state: "ACTIVE" });
    const implementation: UntypedServiceImplementation = {
      GetTopic: (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => {
        seen.push({ method: "GetTopic", request: call.request });
        if (call.request.topic === "projects/p1/topics/missing") return callback({ code: status.NOT_FOUND, details: "Resource not found (resource=missing)." }, null);
        callback(null, topic(String(call.request.topic)));
      },
      CreateTopic: (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => {
        seen.push({ method: "CreateTopic", request: call.request });
        callback(null, call.request);
      },
      ListTopics: (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => {
        seen.push({ method: "ListTopics", request: call.request });
        callback(null, { topics: [topic(`${String(call.request.project)}/topics/a`)], nextPageToken: "next" });
      },
      Publish: (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => {
        seen.push({ method: "Publish", request: call.request });
        callback(null, { messageIds: ["m-1"] });
      },
    };
    server = new Server();
    server.addService(publisher.service, implementation);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));

    gateway = runProtogate(["serve", "--generated", join(work, "generated"), "--upstream", `google.pubsub.v1.Publisher=127.0.0.1:${port}`, "--port", "0", "--admin-port", "0", "--auth", "off"]);
    base = await waitForListening(gateway);
  }, 60_000);

  afterAll(async () => {
    gateway?.child.kill("SIGTERM");
    await gateway?.exited;
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
    rmSync(work, { recursive: true, force: true });
  });

  it("generate writes JavaScript route tables and, without --ts-proto, no ts-proto message code", async () => {
    const out = join(work, "generated");
    expect(existsSync(join(out, "google/pubsub/v1/pubsub.routes.js"))).toBe(true);
    expect(existsSync(join(out, "google/pubsub/v1/pubsub.routes.d.ts"))).toBe(true);
    expect(existsSync(join(out, "google/pubsub/v1/pubsub.ts"))).toBe(false);
    // With --ts-proto the same folder lacks ts-proto's files: --check names them as added.
    const check = runProtogate(["generate", "--proto", join(work, "protos"), "--out", out, "--ts-proto", "--check"]);
    expect(await check.exited).toBe(1);
    expect(check.stderr()).toContain("added: google/pubsub/v1/pubsub.ts");
    expect(check.stderr()).not.toContain("routes.js");
  }, 60_000);

  it("GET binds a multi-segment resource name and renders the reply per the JSON mapping", async () => {
    const response = await fetch(`${base}/v1/projects/p1/topics/t1`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: "projects/p1/topics/t1", labels: { team: "core" }, messageRetentionDuration: "600s", state: "ACTIVE" });
    expect(seen.at(-1)).toMatchObject({ method: "GetTopic", request: { topic: "projects/p1/topics/t1" } });
  });

  it("PUT with body '*' merges the path-bound name with the body", async () => {
    const response = await fetch(`${base}/v1/projects/p1/topics/t2`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ labels: { env: "prod" }, messageRetentionDuration: "3600.5s", kmsKeyName: "k" }),
    });
    expect(response.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ method: "CreateTopic", request: { name: "projects/p1/topics/t2", labels: { env: "prod" }, messageRetentionDuration: { seconds: "3600", nanos: 500_000_000 }, kmsKeyName: "k" } });
    expect(await response.json()).toMatchObject({ name: "projects/p1/topics/t2", messageRetentionDuration: "3600.500s" });
  });

  it("GET with query parameters for a list call", async () => {
    const response = await fetch(`${base}/v1/projects/p9/topics?pageSize=5&pageToken=abc`);
    expect(response.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ method: "ListTopics", request: { project: "projects/p9", pageSize: 5, pageToken: "abc" } });
    expect(await response.json()).toMatchObject({ topics: [{ name: "projects/p9/topics/a" }], nextPageToken: "next" });
  });

  it("a custom verb with bytes in repeated messages", async () => {
    const response = await fetch(`${base}/v1/projects/p1/topics/t1:publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ data: Buffer.from("hello").toString("base64"), attributes: { k: "v" } }] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ messageIds: ["m-1"] });
    const request = seen.at(-1)?.request as { topic: string; messages: Array<{ data: Buffer; attributes: Record<string, string> }> };
    expect(request.topic).toBe("projects/p1/topics/t1");
    expect(Buffer.from(request.messages[0].data).toString()).toBe("hello");
    expect(request.messages[0].attributes).toEqual({ k: "v" });
  });

  it("an upstream NOT_FOUND is a 404 google.rpc.Status", async () => {
    const response = await fetch(`${base}/v1/projects/p1/topics/missing`);
    expect(response.status).toBe(404);
    expect(await responseJson(response)).toEqual({ code: 5, message: "Resource not found (resource=missing).", details: [] });
  });

  it("a method with no route for the path is 405 with Allow", async () => {
    const response = await fetch(`${base}/v1/projects/p1/topics/t1`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("DELETE, GET, PATCH, PUT");
  });
});
