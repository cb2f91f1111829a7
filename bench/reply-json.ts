// `npm run bench:reply-json`: an upstream reply (protobuf bytes) to the HTTP body, the object
// path (decode to a message object, write its JSON tree, JSON.stringify) against the direct
// writer (bytes straight to JSON text, json/wire-json.ts), in one run on the same bytes: CPU ns
// per reply and bytes allocated per reply, and the ratios direct / object. Rounds alternate the
// order of the two paths; medians are reported. A micro-benchmark: the shaping step alone, up to
// the body's byte length (what the HTTP layer asks next: a string built by concatenation is
// flattened then, which is part of the direct writer's cost).
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { parseArgs } from "node:util";
import { GCProfiler, getHeapStatistics } from "node:v8";
import { descriptorSetBase64 } from "../generated/protogate.descriptors.js";
import type { AnyBinding } from "../src/binding.js";
import { seedUsers } from "../src/demo/seed-data.js";
import { createBinaryCodecs } from "../src/transcode/binary-codecs.js";
import { decodeReply } from "../src/transcode/decode-reply.js";
import { createCodecRegistry } from "../src/transcode/json/codec-registry.js";
import { createMessageShaper, createResponseShaper } from "../src/transcode/response-shaper.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "11" }, replies: { type: "string", default: "40000000" } } });
const rounds = Number(values.rounds);
/** Reply bytes per round and path (so each case runs for about the same time). */
const replyBytes = Number(values.replies);

const descriptorSet = Buffer.from(descriptorSetBase64, "base64");
const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
const registry = createCodecRegistry(files, { ignoreUnknownFields: false });
const codecOf = createBinaryCodecs(files);

function binding(responseType: string): AnyBinding {
  const b: Partial<AnyBinding> = { rpcPath: "/bench/Reply", httpMethod: "GET", pattern: "/bench", source: "bench", responseType, responseBody: [], responseCodec: codecOf(responseType) };
  return b as AnyBinding;
}

const user = registry.plan("demo.v1.User");
const list = registry.plan("demo.v1.ListUsersResponse");
const [ada] = seedUsers();
/** A larger reply: 50 users, each with 8 labels (a map), a 6-key profile (a Struct with a nested list) and a Timestamp. */
const users = Array.from({ length: 50 }, (_, i) => ({
  ...ada,
  userId: `u-${i}`,
  labels: new Map(Array.from({ length: 8 }, (_, j) => [`label-${(j * 5) % 8}`, `value-${i}-${j}`])),
  profile: { city: "London", languages: ["en", "fr", "de"], newsletter: i % 2 === 0, visits: i * 17, score: 0.5 + i, manager: null },
}));

const CASES: ReadonlyArray<readonly [string, string, Uint8Array]> = [
  ["GetUser reply (demo User u-1)", "demo.v1.User", user.encode(ada)],
  ["ListUsers reply (50 users, maps, Structs)", "demo.v1.ListUsersResponse", list.encode({ users, nextPageToken: "page-2" })],
];

interface Sample {
  ns: number;
  bytes: number;
}

/**
 * CPU time (the process's: V8's collector threads included) and bytes allocated per call over
 * `n` calls. Allocated = heap growth over the batch + what each collection during it freed (from
 * V8's GC profiler), so collections do not hide allocation.
 */
function sample(fn: () => unknown, n: number): Sample {
  let sink = 0;
  const profiler = new GCProfiler();
  profiler.start();
  const heapBefore = getHeapStatistics().used_heap_size;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) if (fn() !== undefined) sink++;
  const cpu = process.cpuUsage(start);
  const heapAfter = getHeapStatistics().used_heap_size;
  const freed = (profiler.stop()?.statistics ?? []).reduce((sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize, 0);
  if (sink !== n) throw new Error("a path returned nothing");
  return { ns: ((cpu.user + cpu.system) * 1000) / n, bytes: (heapAfter - heapBefore + freed) / n };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

console.log(`node ${process.version}; ${rounds} rounds of ${replyBytes / 1e6} MB of replies per path; medians`);
console.log("case | reply bytes | object path ns | direct ns | CPU ratio | object path B/reply | direct B/reply | allocation ratio");
for (const [name, type, bytes] of CASES) {
  const b = binding(type);
  const fromMessage = createMessageShaper(registry, b);
  const viaObject = (): unknown => Buffer.byteLength(fromMessage(decodeReply(b, bytes)).body);
  const shape = createResponseShaper(registry, b);
  const direct = (): unknown => Buffer.byteLength(shape(bytes).body);
  if (fromMessage(decodeReply(b, bytes)).body !== shape(bytes).body) throw new Error(`${name}: the two paths disagree`);
  const iterations = Math.ceil(replyBytes / bytes.length);
  const cpu = { object: [] as number[], direct: [] as number[] };
  const heap = { object: [] as number[], direct: [] as number[] };
  for (let i = 0; i < 2000; i++) (viaObject(), direct()); // warm up both
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (["object", "direct"] as const) : (["direct", "object"] as const);
    for (const which of order) {
      const { ns, bytes: allocated } = sample(which === "object" ? viaObject : direct, iterations);
      cpu[which].push(ns);
      heap[which].push(allocated);
    }
  }
  const [oNs, dNs, oB, dB] = [median(cpu.object), median(cpu.direct), median(heap.object), median(heap.direct)];
  console.log(`${name} | ${bytes.length} | ${oNs.toFixed(0)} | ${dNs.toFixed(0)} | ${(dNs / oNs).toFixed(2)}x | ${oB.toFixed(0)} | ${dB.toFixed(0)} | ${(dB / oB).toFixed(2)}x`);
}
