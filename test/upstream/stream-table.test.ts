import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StreamTable } from "../../src/upstream/stream-table.js";

interface Stream {
  readonly id: number;
}

type Step = { kind: "open"; skip: number } | { kind: "close"; pick: number } | { kind: "closeUnknown"; id: number } | { kind: "get"; id: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  // A new stream: the next odd id, sometimes after ids a connection used and closed elsewhere.
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("open" as const), skip: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("close" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("closeUnknown" as const), id: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("get" as const), id: fc.integer({ min: 0, max: 5000 }) }) },
);

/** The table and a Map (the reference model) after the same steps; throws where they disagree. */
function replay(steps: readonly Step[]): { table: StreamTable<Stream>; model: Map<number, Stream> } {
  const table = new StreamTable<Stream>();
  const model = new Map<number, Stream>();
  let nextId = 1;
  for (const s of steps) {
    if (s.kind === "open") {
      nextId += 2 * s.skip;
      const stream = { id: nextId };
      nextId += 2;
      table.add(stream);
      model.set(stream.id, stream);
    } else if (s.kind === "close") {
      const open = [...model.keys()];
      if (open.length === 0) continue;
      const id = open[s.pick % open.length];
      expect(table.delete(id)).toBe(true);
      model.delete(id);
    } else if (s.kind === "closeUnknown") {
      expect(table.delete(s.id)).toBe(model.delete(s.id));
    } else {
      expect(table.get(s.id)).toBe(model.get(s.id));
    }
    expect(table.size).toBe(model.size);
  }
  return { table, model };
}

describe("StreamTable", () => {
  it("holds the same streams as a Map through any sequence of opens (rising odd ids), closes and lookups", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), (steps) => {
        const { table, model } = replay(steps);
        for (const [id, stream] of model) expect(table.get(id)).toBe(stream);
        expect(new Set(table.values())).toEqual(new Set(model.values()));
      }),
    );
  });

  it("keeps short calls out of the Map of stragglers: 100,000 calls, at most 32 open at once", () => {
    const table = new StreamTable<Stream>();
    const open: Stream[] = [];
    for (let id = 1; id < 200_000; id += 2) {
      const stream = { id };
      table.add(stream);
      open.push(stream);
      if (open.length === 32) expect(table.delete((open.shift() as Stream).id)).toBe(true);
    }
    expect(table.size).toBe(31);
    expect(table.straggling).toBe(0);
    for (const stream of open) expect(table.get(stream.id)).toBe(stream);
  });

  it("keeps a long call (a stream open while thousands of later ones come and go) findable, as a straggler", () => {
    const table = new StreamTable<Stream>();
    const long = { id: 1 };
    table.add(long);
    for (let id = 3; id < 20_000; id += 2) {
      table.add({ id });
      expect(table.delete(id)).toBe(true);
    }
    expect(table.get(1)).toBe(long);
    expect(table.straggling).toBe(1);
    expect(table.values()).toEqual([long]);
    expect(table.delete(1)).toBe(true);
    expect(table.size).toBe(0);
    expect(table.straggling).toBe(0);
  });

  it("grows for many streams open at once, each still found by its id", () => {
    const table = new StreamTable<Stream>();
    const streams = Array.from({ length: 5_000 }, (_, i) => ({ id: 2 * i + 1 }));
    for (const stream of streams) table.add(stream);
    expect(table.size).toBe(5_000);
    expect(table.straggling).toBe(0);
    for (const stream of streams) expect(table.get(stream.id)).toBe(stream);
    expect(table.get(10_001)).toBeUndefined();
  });
});
