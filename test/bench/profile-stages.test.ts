import { describe, expect, it } from "vitest";
import { attributeProfile, classifyStack, formatBreakdown, formatTopFrames, STAGE_RULES, STAGES, type CallFrame, type CpuProfile, type ProfileNode } from "../../bench/profile-stages.js";

const SRC = "file:///repo/src";
const MODULES = "file:///repo/node_modules";
const frame = (functionName: string, url = ""): CallFrame => ({ functionName, url });

// Stacks from the leaf (running function) to the root, as a profile of the gateway has them.
const ROOT = frame("(root)");
const FASTIFY = frame("handleRequest", `${MODULES}/fastify/lib/handleRequest.js`);
const HTTP_SERVER = frame("parserOnIncoming", "node:_http_server");
const PIPELINE = frame("handle", `${SRC}/gateway/pipeline.ts`);
const HTTP2_CORE = frame("onStreamRead", "node:internal/http2/core");
const WRITE_GENERIC = frame("writeGeneric", "node:internal/stream_base_commons");
const EMIT = frame("emit", "node:events");

describe("the stage of a stack", () => {
  it.each([
    ["GC", [frame("(garbage collector)"), ROOT]],
    ["idle", [frame("(idle)"), ROOT]],
    ["event loop & native (program)", [frame("(program)"), ROOT]],
    ["HTTP parse & Fastify", [EMIT, HTTP_SERVER, ROOT]],
    ["HTTP parse & Fastify", [FASTIFY, HTTP_SERVER, ROOT]],
    ["routing", [frame("find", `${MODULES}/find-my-way/index.js`), FASTIFY, HTTP_SERVER, ROOT]],
    ["routing", [frame("match", `${SRC}/routing/router.ts`), PIPELINE, FASTIFY, ROOT]],
    ["edge checks (auth, limits)", [frame("verify", `${MODULES}/jose/dist/node/esm/jws/verify.js`), frame("authenticate", `${SRC}/auth/authenticate.ts`), PIPELINE, ROOT]],
    ["edge checks (auth, limits)", [frame("take", `${SRC}/ratelimit/memory-store.ts`), PIPELINE, ROOT]],
    // The JSON plans serve both directions: their caller decides.
    ["JSON -> binary", [frame("uint32", `${MODULES}/@bufbuild/protobuf/dist/esm/wire/binary-encoding.js`), frame("encode", `${SRC}/transcode/json/binary-plan.ts`), frame("encode", `${SRC}/transcode/binary-codecs.ts`), PIPELINE, ROOT]],
    ["JSON -> binary", [frame("readFields"), frame("read", `${SRC}/transcode/json/regular-plan.ts`), frame("build", `${SRC}/transcode/request-builder.ts`), PIPELINE, ROOT]],
    // The compiled build the bench runs by default (dist/, .js files) is attributed like the sources.
    ["JSON -> binary", [frame("readFields"), frame("build", `${SRC.replace("/src", "/dist/src")}/transcode/request-builder.js`), PIPELINE, ROOT]],
    ["binary -> JSON", [frame("writeMessage"), frame("", `${SRC.replace("/src", "/dist/src")}/transcode/response-shaper.js`), PIPELINE, ROOT]],
    ["binary -> JSON", [frame("decode", `${SRC}/transcode/json/binary-plan.ts`), frame("decode", `${SRC}/transcode/binary-codecs.ts`), frame("decodeReply", `${SRC}/transcode/decode-reply.ts`), PIPELINE, ROOT]],
    // tsx leaves the codec's arrow functions anonymous: the plan's entry point names the direction.
    ["JSON -> binary", [frame("ensureCapacity", `${MODULES}/@bufbuild/protobuf/dist/esm/wire/binary-encoding.js`), frame("encode", `${SRC}/transcode/json/message-plans.ts`), frame("", `${SRC}/transcode/binary-codecs.ts`), PIPELINE, ROOT]],
    ["binary -> JSON", [frame("decode", `${SRC}/transcode/json/binary-plan.ts`), frame("decode", `${SRC}/transcode/json/message-plans.ts`), frame("", `${SRC}/transcode/binary-codecs.ts`), PIPELINE, ROOT]],
    ["binary -> JSON", [frame("writeFields"), frame("shape", `${SRC}/transcode/response-shaper.ts`), PIPELINE, ROOT]],
    // The direct encoder (JSON straight to bytes) runs under the request encoder.
    ["JSON -> binary", [frame("string", `${SRC}/transcode/json/wire-writer.ts`), frame("encodeJson"), frame("", `${SRC}/transcode/request-encoder.ts`), PIPELINE, ROOT]],
    // The direct writer (bytes straight to JSON text) runs under the shaper.
    ["binary -> JSON", [frame("string", `${SRC}/transcode/json/wire-cursor.ts`), frame("writeMessage"), frame("writeWireJson", `${SRC}/transcode/json/wire-json.ts`), frame("", `${SRC}/transcode/response-shaper.ts`), PIPELINE, ROOT]],
    // A socket write belongs to whoever writes: the upstream session or the HTTP response.
    ["upstream call (incl. node:http2)", [WRITE_GENERIC, frame("_writeGeneric", "node:net"), HTTP2_CORE, ROOT]],
    ["upstream call (incl. node:http2)", [EMIT, frame("onData", `${SRC}/upstream/grpc-exchange.ts`), EMIT, HTTP2_CORE, ROOT]],
    ["response write", [WRITE_GENERIC, frame("_writeRaw", "node:_http_outgoing"), frame("onSendEnd", `${MODULES}/fastify/lib/reply.js`), frame("respond", `${SRC}/http/adapter.ts`), PIPELINE, ROOT]],
    ["response write", [frame("writeHead", "node:_http_server"), frame("onSendEnd", `${MODULES}/fastify/lib/reply.js`), ROOT]],
    ["Protogate pipeline glue", [frame("handle", `${SRC}/http/adapter.ts`), FASTIFY, ROOT]],
    ["Protogate pipeline glue", [PIPELINE, FASTIFY, ROOT]],
    // Only a fallback when nothing else on the stack is known.
    ["socket I/O (side unknown)", [frame("onStreamRead", "node:internal/stream_base_commons"), ROOT]],
    ["other", [EMIT, frame("processTicksAndRejections", "node:internal/process/task_queues"), ROOT]],
    // A `src/` folder inside a dependency is not ours.
    ["other", [frame("f", `${MODULES}/some-lib/src/index.js`), ROOT]],
  ] as const)("%s: %j", (stage, stack) => {
    expect(classifyStack(stack)).toBe(stage);
  });

  it("names only known stages", () => {
    for (const rule of STAGE_RULES) expect([...STAGES, "idle"]).toContain(rule.stage);
  });
});

/** A synthetic profile: each entry a leaf-first stack and how long its one sample lasted (µs). */
function syntheticProfile(samples: readonly (readonly [stack: readonly CallFrame[], durationUs: number])[], startTime = 1_000_000): CpuProfile {
  const nodes: { id: number; callFrame: CallFrame; children: number[] }[] = [{ id: 1, callFrame: ROOT, children: [] }];
  const leafIds: number[] = [];
  for (const [stack] of samples) {
    let parent = nodes[0];
    for (const callFrame of [...stack].reverse().slice(1)) {
      const existing = parent.children.map((id) => nodes[id - 1]).find((n) => n.callFrame === callFrame);
      const node = existing ?? { id: nodes.length + 1, callFrame, children: [] };
      if (!existing) {
        nodes.push(node);
        parent.children.push(node.id);
      }
      parent = node;
    }
    leafIds.push(parent.id);
  }
  // A sample lasts until the next one: the first sample is taken 10 µs after the start.
  const timeDeltas = samples.map((_, i) => (i === 0 ? 10 : samples[i - 1][1]));
  const endTime = startTime + 10 + samples.reduce((sum, [, duration]) => sum + duration, 0);
  return { nodes: nodes as ProfileNode[], startTime, endTime, samples: leafIds, timeDeltas };
}

describe("attributing a profile", () => {
  const encode = [frame("encode", `${SRC}/transcode/binary-codecs.ts`), PIPELINE, ROOT];
  const gc = [frame("(garbage collector)"), ROOT];
  const idle = [frame("(idle)"), ROOT];
  const write = [WRITE_GENERIC, HTTP2_CORE, ROOT];
  const profile = syntheticProfile([
    [encode, 300],
    [gc, 100],
    [idle, 1000],
    [write, 500],
    [encode, 100],
  ]);

  it("sums each sample's time into its stage, idle apart", () => {
    const breakdown = attributeProfile(profile);
    expect(breakdown.stageUs["JSON -> binary"]).toBe(400);
    expect(breakdown.stageUs.GC).toBe(100);
    expect(breakdown.stageUs["upstream call (incl. node:http2)"]).toBe(500);
    expect(breakdown.idleUs).toBe(1000);
    expect(breakdown.busyUs).toBe(1000);
    expect(breakdown.samples).toBe(5);
  });

  it("counts only the samples inside a window, cut at its end", () => {
    // Samples start at +10, +310, +410, +1410, +1910 µs.
    const breakdown = attributeProfile(profile, { fromUs: profile.startTime + 300, toUs: profile.startTime + 1700 });
    expect(breakdown.stageUs.GC).toBe(100);
    expect(breakdown.idleUs).toBe(1000);
    expect(breakdown.stageUs["upstream call (incl. node:http2)"]).toBe(290);
    expect(breakdown.stageUs["JSON -> binary"]).toBe(0);
    expect(breakdown.wallUs).toBe(1400);
  });

  it("lists the largest leaf frames of each stage, our files by their path in the repository", () => {
    const shaper = frame("shape", `${SRC}/transcode/response-shaper.ts`);
    const breakdown = attributeProfile(
      syntheticProfile([
        [[EMIT, ROOT], 700],
        [gc, 50],
        [[{ ...shaper, lineNumber: 65 }, PIPELINE, ROOT], 30],
        [[frame("writeFields"), shaper, PIPELINE, ROOT], 40],
      ]),
    );
    expect(breakdown.topFrames.other).toEqual([{ frame: "emit node:events", us: 700 }]);
    expect(breakdown.topFrames["binary -> JSON"]).toEqual([
      { frame: "writeFields", us: 40 },
      { frame: "shape src/transcode/response-shaper.ts:66", us: 30 },
    ]);
    expect(formatTopFrames(breakdown, ["binary -> JSON", "routing"], 2)).toBe(
      ["binary -> JSON, largest leaf frames:", "       0 ms   20.0 µs/req  writeFields", "       0 ms   15.0 µs/req  shape src/transcode/response-shaper.ts:66"].join("\n"),
    );
  });

  it("prints CPU, the share of the busy time, µs per request, and each share of the CPU /proc measured", () => {
    const text = formatBreakdown(attributeProfile(profile), 4, 200);
    expect(text).toMatch(/^JSON -> binary\s+0\s+40\.0%\s+100\.0\s+80\.0$/m);
    expect(text).toMatch(/^upstream call \(incl\. node:http2\)\s+1\s+50\.0%\s+125\.0\s+100\.0$/m);
    expect(text).toMatch(/^total \(busy, not idle\)\s+1\s+100\.0%\s+250\.0\s+200\.0$/m);
    expect(formatBreakdown(attributeProfile(profile))).toMatch(/^GC\s+0\s+10\.0%\s+-\s+-$/m);
  });
});
