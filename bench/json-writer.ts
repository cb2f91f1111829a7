// `npm run bench:json-writer`: the reply writer (a decoded message -> proto3 JSON text, as the
// response shaper does it) on demo Users with and without map / Struct entries, in ns per write,
// as a ratio to JSON.stringify of the same finished JSON (a cost the writer's code does not
// change). `--against DIR` also times the writer of another checkout (DIR/src, e.g. an export of
// main) in the same run, on the same messages. Rounds alternate the order of the candidates;
// medians are reported. A micro-benchmark: it measures the writer alone, not a request.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { descriptorSetBase64 } from "../generated/protogate.descriptors.js";
import { createCodecRegistry, type CodecRegistry } from "../src/transcode/json/codec-registry.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "15" }, iterations: { type: "string", default: "20000" }, against: { type: "string" } },
});
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

const descriptorSet = Buffer.from(descriptorSetBase64, "base64");
const here = createCodecRegistry(descriptorSet, { ignoreUnknownFields: false });
const user = here.plan("demo.v1.User");
const listRequest = here.plan("demo.v1.ListUsersRequest");

/** A demo User as the backend's decoder leaves it; `labels` in an unsorted order. */
function decodedUser(labels: number, profileKeys: number): unknown {
  const json = {
    userId: "u-12345",
    displayName: "Ada Lovelace",
    email: "ada@example.com",
    role: "ROLE_ADMIN",
    createTime: "2026-11-28T10:15:30.123Z",
    labels: Object.fromEntries(Array.from({ length: labels }, (_, i) => [`label-${(i * 7) % labels}-${"kqzbxmwfta"[i % 10]}`, `value ${i}`])),
    tags: ["math", "engines", "poetry"],
    balanceCents: "123456789",
    ...(profileKeys > 0 ? { profile: Object.fromEntries(Array.from({ length: profileKeys }, (_, i) => [`${"zyxwvutsrq"[i % 10]}key${i}`, i % 2 === 0 ? `text ${i}` : i])) } : {}),
    nickname: "ada",
  };
  return user.decode(user.encode(user.readJson(json, 1)));
}

const listMessage = listRequest.decode(
  listRequest.encode(listRequest.readJson({ pageSize: 20, pageToken: "p-2", role: "ROLE_MEMBER", tags: ["a", "b"], createdAfter: "2026-01-01T00:00:00Z" }, 1)),
);

const CASES: ReadonlyArray<readonly [string, string, unknown]> = [
  ["User, 10 labels + 4-key Struct", "demo.v1.User", decodedUser(10, 4)],
  ["User, 10 labels, no Struct", "demo.v1.User", decodedUser(10, 0)],
  ["User, 100 labels, no Struct", "demo.v1.User", decodedUser(100, 0)],
  ["User, no labels, no Struct", "demo.v1.User", decodedUser(0, 0)],
  ["ListUsersRequest (no map fields)", "demo.v1.ListUsersRequest", listMessage],
];

/** The writers to time: this checkout's, and the other checkout's with --against. */
async function writers(): Promise<ReadonlyArray<readonly [string, CodecRegistry]>> {
  if (values.against === undefined) return [["writer", here]];
  const url = pathToFileURL(resolve(values.against, "src/transcode/json/codec-registry.ts")).href;
  const other = (await import(url)) as { createCodecRegistry: typeof createCodecRegistry };
  return [
    ["writer", here],
    ["against", other.createCodecRegistry(descriptorSet, { ignoreUnknownFields: false })],
  ];
}

function timeNs(fn: () => string, iterations: number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn().length;
  const elapsed = Number(process.hrtime.bigint() - start);
  if (sink === 0) throw new Error("the writer wrote nothing");
  return elapsed / iterations;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const registries = await writers();
console.log(`node ${process.version}; ${rounds} rounds x ${iterations} writes per case; median ns per write, and its ratio to JSON.stringify of the finished JSON`);
for (const [label, typeName, message] of CASES) {
  const finished = here.plan(typeName).writeJson(message, 1);
  const candidates: ReadonlyArray<readonly [string, () => string]> = [
    ["stringify", () => JSON.stringify(finished)],
    ...registries.map(([name, registry]): readonly [string, () => string] => {
      const plan = registry.plan(typeName);
      return [name, () => JSON.stringify(plan.writeJson(message, 1))];
    }),
  ];
  for (const [, fn] of candidates) timeNs(fn, iterations); // warm-up
  const samples = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? candidates : [...candidates].reverse();
    for (const [name, fn] of order) samples.get(name)!.push(timeNs(fn, iterations));
  }
  const base = median(samples.get("stringify")!);
  const cells = registries.map(([name]) => {
    const ns = median(samples.get(name)!);
    return `${name} ${ns.toFixed(0)} ns (${(ns / base).toFixed(2)}x)`;
  });
  const size = JSON.stringify(finished).length;
  console.log(`${label.padEnd(34)} ${String(size).padStart(4)} B  stringify ${base.toFixed(0)} ns  ${cells.join("  ")}`);
}
