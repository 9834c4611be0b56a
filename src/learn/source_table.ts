/**
 * What the learner remembers of each source, in fixed memory: typed arrays of a fixed
 * number of slots, a hash index into them, and a least-recently-used order that gives the
 * slot of the source seen least recently to a newcomer when all are taken. A source costs
 * the same few dozen bytes whatever it does, and a million distinct IPv6 /64s cost what a
 * table full of sources costs (`SourceTable.bytesPerSource`).
 *
 * @module
 */
import { zeroed } from "../runtime/zeroed.ts";

/** A slot that holds no source. */
const empty = -1;

/**
 * A fixed-size least-recently-used table of sources, each with `floats` numbers and
 * `counts` small counters (0 to 255) of its own.
 *
 * @example
 * ```ts
 * import { SourceTable } from "./source_table.ts";
 * const table = new SourceTable(1024, 4, 2);
 * const slot = table.slot("203.0.113.7"); // a fresh slot, its numbers NaN and counts 0
 * table.floats[slot * 4] = 12.5;
 * table.find("203.0.113.7") === slot; // true
 * ```
 */
export class SourceTable {
  /** Each slot's numbers, `floats` a slot: NaN until set. */
  readonly floats: Float32Array;
  /** Each slot's counters, `counts` a slot. */
  readonly counts: Uint8Array;
  readonly #keys: Float64Array;
  /** The index: open addressing over twice the slots, each holding a slot plus one, or 0. */
  readonly #index: Int32Array;
  readonly #newer: Int32Array;
  readonly #older: Int32Array;
  #newest = empty;
  #oldest = empty;
  #size = 0;

  /**
   * A table of `capacity` empty slots.
   *
   * @param capacity how many sources are kept at most
   * @param floatsPerSource numbers kept per source
   * @param countsPerSource counters kept per source
   */
  constructor(
    readonly capacity: number,
    readonly floatsPerSource: number,
    readonly countsPerSource: number,
  ) {
    // Nothing is written here: a slot's numbers, key and links are set when a source takes
    // it, and the index marks a free place with 0. So the zeroed pages stay untouched, and
    // a table costs memory only as sources fill it.
    this.floats = zeroed(Float32Array, capacity * floatsPerSource);
    this.counts = zeroed(Uint8Array, capacity * countsPerSource);
    this.#keys = zeroed(Float64Array, capacity);
    this.#index = zeroed(Int32Array, 2 * capacity);
    this.#newer = zeroed(Int32Array, capacity);
    this.#older = zeroed(Int32Array, capacity);
  }

  /** Sources kept now. */
  get size(): number {
    return this.#size;
  }

  /** What one source costs, in bytes: its numbers, counters, key, index and links. */
  get bytesPerSource(): number {
    return 4 * this.floatsPerSource + this.countsPerSource + 8 + 2 * 4 + 4 + 4;
  }

  /** The slot of `source`, made the most recently used; or -1 when it is not kept. */
  find(source: string): number {
    const key = keyOf(source);
    const at = this.#lookup(key);
    const slot = at === empty ? empty : this.#index[at] - 1;
    if (slot !== empty) this.#touch(slot);
    return slot;
  }

  /**
   * The slot of `source`, made the most recently used: its own, or a fresh one (numbers
   * NaN, counts 0), taken from the least recently used source when the table is full.
   */
  slot(source: string): number {
    const found = this.find(source);
    if (found !== empty) return found;
    const key = keyOf(source);
    let slot: number;
    if (this.#size < this.capacity) {
      slot = this.#size++;
    } else {
      slot = this.#oldest;
      this.#unindex(this.#keys[slot]);
      this.#unlink(slot);
    }
    this.#keys[slot] = key;
    this.floats.fill(NaN, slot * this.floatsPerSource, (slot + 1) * this.floatsPerSource);
    this.counts.fill(0, slot * this.countsPerSource, (slot + 1) * this.countsPerSource);
    this.#index[this.#free(key)] = slot + 1;
    this.#pushNewest(slot);
    return slot;
  }

  /** Where `key` is in the index, or -1. */
  #lookup(key: number): number {
    const mask = this.#index.length - 1;
    for (let at = hash(key) & mask;; at = (at + 1) & mask) {
      const entry = this.#index[at];
      if (entry === 0) return empty;
      if (this.#keys[entry - 1] === key) return at;
    }
  }

  /** A free place in the index for `key` (there always is one: it is twice the slots). */
  #free(key: number): number {
    const mask = this.#index.length - 1;
    let at = hash(key) & mask;
    while (this.#index[at] !== 0) at = (at + 1) & mask;
    return at;
  }

  /** Removes `key` from the index, moving back the entries after it (no tombstones). */
  #unindex(key: number): void {
    const mask = this.#index.length - 1;
    let hole = this.#lookup(key);
    if (hole === empty) return;
    this.#index[hole] = 0;
    for (let at = (hole + 1) & mask; this.#index[at] !== 0; at = (at + 1) & mask) {
      const entry = this.#index[at];
      const home = hash(this.#keys[entry - 1]) & mask;
      // It may move into the hole unless its home lies between the hole and it.
      const between = hole <= at ? home > hole && home <= at : home > hole || home <= at;
      if (between) continue;
      this.#index[hole] = entry;
      this.#index[at] = 0;
      hole = at;
    }
  }

  #touch(slot: number): void {
    if (slot === this.#newest) return;
    this.#unlink(slot);
    this.#pushNewest(slot);
  }

  #pushNewest(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = empty;
    if (this.#newest !== empty) this.#newer[this.#newest] = slot;
    this.#newest = slot;
    if (this.#oldest === empty) this.#oldest = slot;
  }

  #unlink(slot: number): void {
    const newer = this.#newer[slot], older = this.#older[slot];
    if (newer !== empty) this.#older[newer] = older;
    else this.#newest = older;
    if (older !== empty) this.#newer[older] = newer;
    else this.#oldest = newer;
  }
}

/**
 * A source as a number: 52 bits of FNV-1a over its text, exact in a double. Two sources
 * that collide share what is learned of them, which costs nothing but a little accuracy.
 */
function keyOf(source: string): number {
  let low = 0x811c9dc5, high = 0x0100_0193;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    low = Math.imul(low ^ c, 0x01000193) >>> 0;
    high = Math.imul(high ^ (c + 0x9e), 0x01000193) >>> 0;
  }
  return (high & 0xfffff) * 0x1_0000_0000 + low;
}

/** Spreads a key over the index. */
function hash(key: number): number {
  return Math.imul((key % 0x7fff_ffff) ^ (key / 0x1_0000_0000), 0x9e3779b1) >>> 0;
}
