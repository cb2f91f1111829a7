// `node bin/run-ts.js bench/field-behavior-cost.ts`: what the edge checks of field behaviors
// (REQUIRED, OUTPUT_ONLY: src/transcode/field-behavior/) add to encoding a request, in-process:
// the route's encoder alone against the encoder followed by the check, on the same requests in
// the same run (rounds alternate the order; medians of CPU ns per request), as a ratio.
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { parseArgs } from "node:util";
import { OrderService_CreateOrder } from "../generated/demo/v1/order.routes.js";
import { UserService_CreateUser, UserService_SearchUsers } from "../generated/demo/v1/user.routes.js";
import { descriptorSetBase64 } from "../generated/protogate.descriptors.js";
import type { AnyBinding, GeneratedRoute } from "../src/binding.js";
import { createBinaryCodecs } from "../src/transcode/binary-codecs.js";
import { createBehaviorCheck } from "../src/transcode/field-behavior/behavior-check.js";
import { createBehaviorPlans } from "../src/transcode/field-behavior/behavior-plan.js";
import { createCodecRegistry } from "../src/transcode/json/codec-registry.js";
import type { RequestInput } from "../src/transcode/request-builder.js";
import { createRequestEncoder } from "../src/transcode/request-encoder.js";
import { searchBody } from "./routes.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "11" }, requests: { type: "string", default: "100000" } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(descriptorSetBase64, "base64")));
const registry = createCodecRegistry(files, { ignoreUnknownFields: false });
const codecOf = createBinaryCodecs(files);
const plans = createBehaviorPlans();

function binding(route: GeneratedRoute): AnyBinding {
  return { ...route, requestCodec: codecOf(route.requestType), responseCodec: codecOf(route.responseType) } as AnyBinding;
}

const json = (body: unknown): Buffer => Buffer.from(JSON.stringify(body));
const item = (sku: string) => ({ sku, quantity: 2, unitPrice: { currencyCode: "EUR", units: "3", nanos: 0 } });

const CASES: ReadonlyArray<readonly [string, AnyBinding, RequestInput]> = [
  [
    `POST /v1/users:search, the bench's POST (${Buffer.byteLength(searchBody())} B; query REQUIRED)`,
    binding(UserService_SearchUsers as GeneratedRoute),
    { variables: [], query: [], body: Buffer.from(searchBody()), contentType: "application/json" },
  ],
  [
    "POST /v1/users (user REQUIRED, 2 REQUIRED fields inside; an OUTPUT_ONLY createTime to drop)",
    binding(UserService_CreateUser as GeneratedRoute),
    { variables: [], query: [], body: json({ displayName: "Grace", email: "g@example.com", createTime: "2024-05-01T12:00:00Z", tags: ["a", "b"] }), contentType: "application/json" },
  ],
  [
    "POST /v1/users (the same without createTime: nothing to drop)",
    binding(UserService_CreateUser as GeneratedRoute),
    { variables: [], query: [], body: json({ displayName: "Grace", email: "g@example.com", tags: ["a", "b"] }), contentType: "application/json" },
  ],
  [
    "POST /v1/users/u-1/orders (10 line items, 3 REQUIRED fields each)",
    binding(OrderService_CreateOrder as GeneratedRoute),
    { variables: [{ fieldPath: ["parent"], value: "users/u-1" }], query: [], body: json({ items: Array.from({ length: 10 }, (_, i) => item(`SKU-${i}`)) }), contentType: "application/json" },
  ],
];

function timePerCall(fn: () => Uint8Array, n: number): number {
  let sink = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += fn().length;
  const used = process.cpuUsage(start);
  if (sink === 0) throw new Error("nothing encoded");
  return ((used.user + used.system) * 1000) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const [label, route, input] of CASES) {
  const encode = createRequestEncoder(registry, route, { ignoreUnknownQueryParameters: false });
  const check = createBehaviorCheck(plans, registry.plan(route.requestType).desc, "drop");
  if (check === undefined) throw new Error(`${label}: nothing to check`);
  const plain = () => encode(input);
  const checked = () => check(encode(input));
  const encoded = encode(input);
  const alone = () => check(encoded);
  const runs: Array<[() => Uint8Array, number[]]> = [
    [plain, []],
    [checked, []],
    [alone, []],
  ];
  for (const [fn] of runs) timePerCall(fn, requests / 10);
  for (let round = 0; round < rounds; round++) {
    // Each round in another order, so drift in the machine's speed does not favour one.
    const order = round % 2 === 0 ? runs : [...runs].reverse();
    for (const [fn, samples] of order) samples.push(timePerCall(fn, requests));
  }
  const [encodeNs, checkedNs, aloneNs] = runs.map(([, samples]) => median(samples));
  console.log(
    `${label}\n  encode ${encodeNs.toFixed(0)} ns, encode + check ${checkedNs.toFixed(0)} ns (ratio ${(checkedNs / encodeNs).toFixed(3)}); ` +
      `the check alone on the encoded bytes ${aloneNs.toFixed(0)} ns (${((aloneNs / encodeNs) * 100).toFixed(1)} % of encoding)`,
  );
}
