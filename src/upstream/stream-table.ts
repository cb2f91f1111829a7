/** The fewest slots a table has. */
const MIN_SLOTS = 64;
/** Slots per open stream, at least: a stream must outlive this many later ones to become a straggler. */
const SLOTS_PER_STREAM = 4;

/**
 * The open streams of one HTTP/2 connection by stream id, for a connection that opens and closes
 * a stream per call.
 *
 * Why not a `Map`? (Found 2026-12-06; README, "The GC state of a gateway under load".) A V8 `Map`
 * that gets an entry added and one deleted per call is rebuilt every few dozen calls (deleted
 * entries are only dropped by a rehash). V8 allocates the new table in the generation of the old
 * one, and the old table keeps its entries (and a pointer to the new table) until it is collected.
 * While the tables are young, they die young. Once the live table is in the old generation (one
 * full GC while calls are in flight is enough), every later table is allocated there too, and
 * each dead table keeps the streams it held, and through them whole requests, alive until the
 * next full GC. Scavenges then promoted about a tenth of the young generation, with a full GC
 * every second or two, for the rest of the process's life: 25-50 % more CPU per request in the
 * saturated bench.
 *
 * Client stream ids are odd and rising, so the streams open at one time are a window of recent
 * ids. Each id has a slot in an array (`(id >>> 1) mod slots`), and a slot is cleared in place
 * when its stream closes: nothing is rebuilt per call. A stream still open when a later id needs
 * its slot (a long call among many short ones) moves to a `Map` of stragglers, which only such
 * long calls churn. The array doubles when the streams open fill a quarter of it.
 */
export class StreamTable<T extends { readonly id: number }> {
  private slots: Array<T | undefined> = new Array<T | undefined>(MIN_SLOTS).fill(undefined);
  private readonly stragglers = new Map<number, T>();
  private count = 0;

  /** Open streams. */
  get size(): number {
    return this.count;
  }

  /** Open streams kept in the Map of stragglers (for tests and diagnostics). */
  get straggling(): number {
    return this.stragglers.size;
  }

  get(id: number): T | undefined {
    const stream = this.slots[this.slotOf(id)];
    if (stream !== undefined && stream.id === id) return stream;
    return this.stragglers.size === 0 ? undefined : this.stragglers.get(id);
  }

  /** Adds a stream whose id is not in the table (a connection never reuses one). */
  add(stream: T): void {
    if ((this.count + 1) * SLOTS_PER_STREAM > this.slots.length) this.grow();
    const slot = this.slotOf(stream.id);
    const occupant = this.slots[slot];
    if (occupant !== undefined) this.stragglers.set(occupant.id, occupant);
    this.slots[slot] = stream;
    this.count++;
  }

  /** Removes the stream with this id; whether it was there. */
  delete(id: number): boolean {
    const slot = this.slotOf(id);
    const stream = this.slots[slot];
    if (stream !== undefined && stream.id === id) {
      this.slots[slot] = undefined;
      this.count--;
      return true;
    }
    if (this.stragglers.delete(id)) {
      this.count--;
      return true;
    }
    return false;
  }

  /** The open streams (a copy: closing them while iterating is safe). */
  values(): T[] {
    const open: T[] = [];
    for (const stream of this.slots) if (stream !== undefined) open.push(stream);
    for (const stream of this.stragglers.values()) open.push(stream);
    return open;
  }

  private slotOf(id: number): number {
    return (id >>> 1) & (this.slots.length - 1);
  }

  /** Doubles the slots. Streams in different slots stay in different slots (i ≠ j mod n implies i ≠ j mod 2n). */
  private grow(): void {
    const slots = new Array<T | undefined>(this.slots.length * 2).fill(undefined);
    const mask = slots.length - 1;
    for (const stream of this.slots) if (stream !== undefined) slots[(stream.id >>> 1) & mask] = stream;
    this.slots = slots;
  }
}
