// `npm run bench:json`: the request-body JSON reader (parseJsonText) against bare JSON.parse, on
// ~1 KB bodies, in ns per parse. Rounds alternate the functions so that machine drift hits both;
// medians are reported. A micro-benchmark: it measures the reader alone, not a request.
import { parseArgs } from "node:util";
import { parseJsonText } from "../src/transcode/json/parse-json.js";
import { searchBody } from "./routes.js";

/** A ~1 KB demo User body: many short keys, a timestamp, labels, tags and a small Struct. */
function userBody(): string {
  return JSON.stringify({
    userId: "u-12345",
    displayName: "Ada Lovelace",
    email: "ada@example.com",
    role: "ROLE_ADMIN",
    createTime: "2026-11-28T10:15:30.123Z",
    labels: { team: "analytical-engine", tier: "gold", region: "eu-west-1", cost_center: "cc-4711", owner: "babbage" },
    tags: ["math", "engines", "poetry", "notes", "bernoulli", "cards", "loom", "difference"],
    balanceCents: "123456789",
    nickname: "ada",
    profile: {
      city: "London",
      born: 1815,
      languages: ["en", "fr", "it"],
      notes: { a: "Note A: the engine is not a calculator", g: "Note G: Bernoulli numbers, step by step", publishedIn: "Taylor's Scientific Memoirs" },
      links: [{ rel: "self", href: "https://example.com/users/u-12345" }, { rel: "avatar", href: "https://example.com/a/u-12345.png" }],
      address: { street: "12 St James's Square", postcode: "SW1Y 4JH", city: "London", country: "GB" },
      interests: ["mathematics", "music", "horses", "flying machines"],
      verified: true,
      score: 98.6,
    },
  });
}

/** A body with a 64-bit integer beyond 2^53: always the careful parser. */
function bigIntegerBody(): string {
  return userBody().replace('"balanceCents":"123456789"', '"balanceCents":9223372036854775807');
}

const BODIES: ReadonlyArray<readonly [string, string]> = [
  ["search (2 keys, long string)", searchBody()],
  ["user (45 keys, nested)", userBody()],
  ["user with an int64 beyond 2^53", bigIntegerBody()],
];

const CANDIDATES: ReadonlyArray<readonly [string, (text: string) => unknown]> = [
  ["JSON.parse", (text) => JSON.parse(text) as unknown],
  ["parseJsonText", parseJsonText],
];

function timeNs(fn: (text: string) => unknown, text: string, iterations: number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (fn(text) !== undefined) sink++;
  const elapsed = Number(process.hrtime.bigint() - start);
  if (sink !== iterations) throw new Error("a parse returned undefined");
  return elapsed / iterations;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const { values } = parseArgs({ options: { rounds: { type: "string", default: "15" }, iterations: { type: "string", default: "20000" } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

console.log(`node ${process.version}; ${rounds} rounds x ${iterations} parses per body and function; median ns per parse`);
for (const [label, text] of BODIES) {
  for (const [, fn] of CANDIDATES) timeNs(fn, text, iterations); // warm-up
  const samples = new Map<string, number[]>(CANDIDATES.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? CANDIDATES : [...CANDIDATES].reverse();
    for (const [name, fn] of order) samples.get(name)!.push(timeNs(fn, text, iterations));
  }
  const base = median(samples.get("JSON.parse")!);
  const cells = CANDIDATES.map(([name]) => {
    const ns = median(samples.get(name)!);
    return `${name} ${ns.toFixed(0)} ns (${(ns / base).toFixed(2)}x)`;
  });
  console.log(`${label.padEnd(32)} ${Buffer.byteLength(text)} B  ${cells.join("  ")}`);
}
