// `npm run bench:request-encode`: an HTTP request to the protobuf bytes of its request message,
// the object path (request builder: JSON -> ts-proto object, path variables set on it, then the
// binding's codec) against the direct encoder (route.encodeRequest: JSON straight to bytes,
// json/json-binary.ts), in one run on the same requests: CPU ns per request and bytes allocated
// per request, and the ratios direct / object. Both include reading the body (UTF-8 decode and
// JSON parse), which the pipeline does either way. Rounds alternate the order of the two paths;
// medians are reported.
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { parseArgs } from "node:util";
import { GCProfiler, getHeapStatistics } from "node:v8";
import { descriptorSetBase64 } from "../generated/protogate.descriptors.js";
import { UserService_CreateUser, UserService_GetUser, UserService_ListUsers, UserService_SearchUsers } from "../generated/demo/v1/user.routes.js";
import type { AnyBinding, GeneratedRoute } from "../src/binding.js";
import { createBinaryCodecs } from "../src/transcode/binary-codecs.js";
import { createCodecRegistry } from "../src/transcode/json/codec-registry.js";
import { createRequestBuilder, type RequestInput } from "../src/transcode/request-builder.js";
import { createRequestEncoder } from "../src/transcode/request-encoder.js";
import { searchBody } from "./routes.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "11" }, requests: { type: "string", default: "200000" } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(descriptorSetBase64, "base64")));
const registry = createCodecRegistry(files, { ignoreUnknownFields: false });
const codecOf = createBinaryCodecs(files);

function binding(route: GeneratedRoute): AnyBinding {
  return { ...route, requestCodec: codecOf(route.requestType), responseCodec: codecOf(route.responseType) } as AnyBinding;
}

const CREATE_BODY = JSON.stringify({
  userId: "u-9",
  displayName: "Grace Hopper",
  email: "grace@example.com",
  role: "ROLE_ADMIN",
  createTime: "2024-05-01T12:00:00Z",
  labels: { team: "compilers", site: "arlington" },
  tags: ["navy", "cobol"],
  balanceCents: "123456789",
  profile: { city: "New York", languages: ["en"], visits: 3 },
  nickname: "amazing grace",
});

const CASES: ReadonlyArray<readonly [string, AnyBinding, RequestInput]> = [
  [
    `POST /v1/users:search (${Buffer.byteLength(searchBody())} B body)`,
    binding(UserService_SearchUsers as GeneratedRoute),
    { variables: [], query: [], body: Buffer.from(searchBody()), contentType: "application/json" },
  ],
  [
    "GET /v1/users/u-1 (path variable, no body)",
    binding(UserService_GetUser as GeneratedRoute),
    { variables: [{ fieldPath: ["user_id"], value: "u-1" }], query: [], body: undefined, contentType: undefined },
  ],
  [
    `POST /v1/users (body "user": ${Buffer.byteLength(CREATE_BODY)} B with a map, a Timestamp, a Struct, a wrapper)`,
    binding(UserService_CreateUser as GeneratedRoute),
    { variables: [], query: [], body: Buffer.from(CREATE_BODY), contentType: "application/json" },
  ],
  [
    "GET /v1/users?page_size=10 (query parameters: both take the object path)",
    binding(UserService_ListUsers as GeneratedRoute),
    { variables: [], query: [["page_size", "10"]], body: undefined, contentType: undefined },
  ],
];

interface Sample {
  ns: number;
  bytes: number;
}

/** CPU time (the process's) and bytes allocated per call over `n` calls (heap growth + what collections freed). */
function sample(fn: () => Uint8Array, n: number): Sample {
  let sink = 0;
  const profiler = new GCProfiler();
  profiler.start();
  const heapBefore = getHeapStatistics().used_heap_size;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += fn().length;
  const cpu = process.cpuUsage(start);
  const heapAfter = getHeapStatistics().used_heap_size;
  const freed = (profiler.stop()?.statistics ?? []).reduce((sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize, 0);
  if (sink === 0) throw new Error("a path returned nothing");
  return { ns: ((cpu.user + cpu.system) * 1000) / n, bytes: (heapAfter - heapBefore + freed) / n };
}

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

console.log(`node ${process.version}; ${rounds} rounds of ${requests} requests per path; medians`);
console.log("case | object path ns | direct ns | CPU ratio | object path B/request | direct B/request | allocation ratio");
for (const [name, b, input] of CASES) {
  const options = { ignoreUnknownQueryParameters: false };
  const build = createRequestBuilder(registry, b, options);
  const viaObject = (): Uint8Array => b.requestCodec.encode(build(input)).finish();
  const encode = createRequestEncoder(registry, b, options);
  const direct = (): Uint8Array => encode(input);
  if (Buffer.compare(viaObject(), direct()) !== 0) throw new Error(`${name}: the two paths disagree`);
  const cpu = { object: [] as number[], direct: [] as number[] };
  const heap = { object: [] as number[], direct: [] as number[] };
  for (let i = 0; i < 5000; i++) (viaObject(), direct()); // warm up both
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (["object", "direct"] as const) : (["direct", "object"] as const);
    for (const which of order) {
      const { ns, bytes } = sample(which === "object" ? viaObject : direct, requests);
      cpu[which].push(ns);
      heap[which].push(bytes);
    }
  }
  const [oNs, dNs, oB, dB] = [median(cpu.object), median(cpu.direct), median(heap.object), median(heap.direct)];
  console.log(`${name} | ${oNs.toFixed(0)} | ${dNs.toFixed(0)} | ${(dNs / oNs).toFixed(2)}x | ${oB.toFixed(0)} | ${dB.toFixed(0)} | ${(dB / oB).toFixed(2)}x`);
}
