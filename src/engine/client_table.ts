/**
 * The clients a tarpit holds, as a table: a client is a slot, a small integer that is
 * reused once it has gone, and each of its fields is that slot's element of one column.
 * Numbers live in typed arrays, the few references in plain arrays, and nothing is made
 * per client: a V8 object would cost a header and a whole word for every field, where a
 * column costs the field's own width (`deno task bench --only lines` prints bytes per
 * client beside the runtime's floor).
 *
 * The typed arrays are sized for the most clients the tarpit may hold, and cost memory
 * only as slots are written (src/runtime/zeroed.ts). Each column is as narrow as what it
 * holds allows:
 * - clock times, the connection number and bytes sent are doubles;
 * - times after the connect are single floats: exact to the millisecond for 4.6 hours
 *   (2^24 ms), then to a few parts in ten million, where what they are compared with is
 *   seconds; "never" is Infinity;
 * - counts of pieces and lines are 32 bits: at the shortest `--delay`, 10 ms, a piece a
 *   turn takes 497 days to run past them;
 * - a place in a line, and a piece, are 16 bits: lines are at most 8 KiB (a protocol's
 *   longest, `ssh-ignore`'s packets) or `--banner` (at most 4 KiB);
 * - a profile and the pacer's tag fit a byte.
 *
 * @module
 */
import { zeroed } from "../runtime/zeroed.ts";
import type { Departure } from "./events.ts";

/** Lines of a client whose profile is not chosen yet: none. */
export const noLines: Iterator<string, void, undefined> = {
  next: () => ({ done: true, value: undefined }),
};

/**
 * More slots than a table may hold (`--max-clients` allows fewer), and few enough that a
 * slot and its generation make one small integer ({@link ClientTable.keyOf}).
 */
const slotLimit = 2 ** 20;

/** Generations a slot counts through before it starts again; with a slot, a small integer. */
const generations = 2 ** 10;

/**
 * The clients held: a slot per client, its fields in columns.
 *
 * @example
 * ```ts
 * import { ClientTable } from "./client_table.ts";
 * const table = new ClientTable<string>(4_096);
 * const slot = table.take("connection", "192.0.2.1", 40_000, "192.0.2.1", 1, 22, 0);
 * table.bytesSent[slot] += 7;
 * table.release(slot);
 * ```
 */
export class ClientTable<C> {
  // Who it is.
  /** Its connection; undefined in a free slot, and in one whose client is being let go. */
  readonly connection: (C | undefined)[] = [];
  /** Its address: plain IPv4 for an IPv4 peer of a dual-stack socket. */
  readonly host: string[] = [];
  /** Who it counts as for `--max-per-ip` and learning: its IPv4 address or IPv6 /64. */
  readonly source: string[] = [];
  /** Its port. */
  readonly port: Uint16Array;
  /** The port it connected to. */
  readonly localPort: Uint16Array;
  /** Its connection number, as logs name it (endlessh logs the fd). */
  readonly id: Float64Array;
  /** When it connected, in clock time. */
  readonly connectedAt: Float64Array;

  // Its place in its protocol's lines.
  /** The lines its protocol makes for it, from when its profile is chosen. */
  readonly lines: Iterator<string, void, undefined>[] = [];
  /** The line being sent; empty between lines. */
  readonly line: string[] = [];
  /** The index of the line's next character. */
  readonly offset: Uint16Array;
  /** Its pacing profile: an index into the tarpit's profiles. */
  readonly profile: Uint8Array;
  /** What the pacer tagged it with, given back to the pacer with it. */
  readonly tag: Uint8Array;
  /**
   * The length of a piece the kernel has not taken yet, as when the client does not read:
   * no other is sent until it has. 0 when none waits.
   */
  readonly pendingBytes: Uint16Array;

  // What it was sent.
  /** Bytes the kernel took for it. */
  readonly bytesSent: Float64Array;
  /** Pieces the kernel took for it. */
  readonly piecesSent: Uint32Array;
  /** Lines it was sent whole. */
  readonly linesSent: Uint32Array;
  /** When its last piece was sent, in clock time. */
  readonly lastPieceAt: Float64Array;
  /** The longest wait between two of its pieces, or before its first. */
  readonly longestGapMs: Float32Array;
  /**
   * Since when (clock time) it has waited for the line being sent: when the line before it
   * ended, or when it connected. A client reading a line with an alarm waits that long.
   */
  readonly lineWaitFrom: Float64Array;

  // Times after its connect (Infinity for never), and what goes with them.
  /** Since when its peer is no longer watched; Infinity while it is. */
  readonly unwatchedAfter: Float32Array;
  /** When its profile began: 0, or when the pacer changed it. */
  readonly profileSince: Float32Array;
  /** Pieces it had been sent when its profile began. */
  readonly piecesBeforeProfile: Uint32Array;
  /** Lines it had been sent whole when its profile began. */
  readonly linesBeforeProfile: Uint32Array;
  /** Pieces it had been sent when it last spoke; 0 until it spoke after one. */
  readonly spokeAfterPiece: Uint32Array;
  /** When it first spoke after a piece: it took what it had been sent then for a greeting. */
  readonly greetedMs: Float32Array;
  /**
   * When it answered: spoke after a piece, having spoken after an earlier one. It then took
   * something it was sent for a reply to what it had said, as a brute-forcer that reads
   * any 3 bytes for its answer does.
   */
  readonly answeredMs: Float32Array;
  /** When it last spoke: 0 until it did. */
  readonly spokeAtMs: Float32Array;
  /** When the pacer was last told it stayed: 0 until then. */
  readonly checkedAt: Float32Array;
  /** When its first piece goes, if its pacer asked for it later than its profile's; else 0. */
  readonly waitsUntil: Float32Array;
  /** The pacer's news when it last chose this client's profile at a horizon. */
  readonly news: Uint32Array;
  /**
   * 1 once it went on after its answer, still there at its next turn: only then was the
   * answer progress (a brute-forcer trying password after password on one connection).
   */
  readonly wentOn: Uint8Array;
  /** 1 once the pacer was told its profile held it to the horizon. */
  readonly credited: Uint8Array;

  // Rare, and short-lived: kept only for the slots that have them.
  /** What it sent first, kept until its profile is chosen. */
  readonly firstBytes = new Map<number, string>();
  /**
   * Its departure as it stood when it closed its end (FIN), while that is not known to be
   * a half-close: the write that tells must not count as something it got.
   */
  readonly closedEnd = new Map<number, Departure>();

  /** How many times each slot was taken, counted round {@link generations}. */
  readonly #generation: Uint16Array;
  /** Slots given back, to be taken again before new ones. */
  readonly #free: Int32Array;
  #freeCount = 0;
  /** Slots ever taken: the next new one. */
  #used = 0;
  #held = 0;

  /** A table for at most `capacity` clients at once (below 2^20). */
  constructor(readonly capacity: number) {
    if (capacity >= slotLimit) {
      throw new RangeError(`${capacity} clients: at most ${slotLimit - 1}`);
    }
    this.port = zeroed(Uint16Array, capacity);
    this.localPort = zeroed(Uint16Array, capacity);
    this.id = zeroed(Float64Array, capacity);
    this.connectedAt = zeroed(Float64Array, capacity);
    this.offset = zeroed(Uint16Array, capacity);
    this.profile = zeroed(Uint8Array, capacity);
    this.tag = zeroed(Uint8Array, capacity);
    this.pendingBytes = zeroed(Uint16Array, capacity);
    this.bytesSent = zeroed(Float64Array, capacity);
    this.piecesSent = zeroed(Uint32Array, capacity);
    this.linesSent = zeroed(Uint32Array, capacity);
    this.lastPieceAt = zeroed(Float64Array, capacity);
    this.longestGapMs = zeroed(Float32Array, capacity);
    this.lineWaitFrom = zeroed(Float64Array, capacity);
    this.unwatchedAfter = zeroed(Float32Array, capacity);
    this.profileSince = zeroed(Float32Array, capacity);
    this.piecesBeforeProfile = zeroed(Uint32Array, capacity);
    this.linesBeforeProfile = zeroed(Uint32Array, capacity);
    this.spokeAfterPiece = zeroed(Uint32Array, capacity);
    this.greetedMs = zeroed(Float32Array, capacity);
    this.answeredMs = zeroed(Float32Array, capacity);
    this.spokeAtMs = zeroed(Float32Array, capacity);
    this.checkedAt = zeroed(Float32Array, capacity);
    this.waitsUntil = zeroed(Float32Array, capacity);
    this.news = zeroed(Uint32Array, capacity);
    this.wentOn = zeroed(Uint8Array, capacity);
    this.credited = zeroed(Uint8Array, capacity);
    this.#generation = zeroed(Uint16Array, capacity);
    this.#free = zeroed(Int32Array, capacity);
  }

  /** How many clients are held. */
  get size(): number {
    return this.#held;
  }

  /** Takes a slot for a client just admitted, its fields set to where every client starts. */
  take(
    connection: C,
    host: string,
    port: number,
    source: string,
    id: number,
    localPort: number,
    now: number,
  ): number {
    let slot: number;
    if (this.#freeCount > 0) slot = this.#free[--this.#freeCount];
    else if (this.#used < this.capacity) slot = this.#used++;
    else throw new RangeError(`more than ${this.capacity} clients held`);
    this.#held++;
    this.#generation[slot] = (this.#generation[slot] + 1) % generations;
    this.connection[slot] = connection;
    this.host[slot] = host;
    this.source[slot] = source;
    this.port[slot] = port;
    this.localPort[slot] = localPort;
    this.id[slot] = id;
    this.connectedAt[slot] = now;
    this.lines[slot] = noLines;
    this.line[slot] = "";
    this.offset[slot] = 0;
    this.profile[slot] = 0;
    this.tag[slot] = 0;
    this.pendingBytes[slot] = 0;
    this.bytesSent[slot] = 0;
    this.piecesSent[slot] = 0;
    this.linesSent[slot] = 0;
    this.lastPieceAt[slot] = now;
    this.longestGapMs[slot] = 0;
    this.lineWaitFrom[slot] = now;
    this.unwatchedAfter[slot] = Infinity;
    this.profileSince[slot] = 0;
    this.piecesBeforeProfile[slot] = 0;
    this.linesBeforeProfile[slot] = 0;
    this.spokeAfterPiece[slot] = 0;
    this.greetedMs[slot] = Infinity;
    this.answeredMs[slot] = Infinity;
    this.spokeAtMs[slot] = 0;
    this.checkedAt[slot] = 0;
    this.waitsUntil[slot] = 0;
    this.news[slot] = 0;
    this.wentOn[slot] = 0;
    this.credited[slot] = 0;
    return slot;
  }

  /** Whether `slot` holds a client. */
  holds(slot: number): boolean {
    return this.connection[slot] !== undefined;
  }

  /** Gives a slot back, letting go of what it referred to. */
  release(slot: number): void {
    this.connection[slot] = undefined;
    this.host[slot] = this.source[slot] = this.line[slot] = "";
    this.lines[slot] = noLines;
    this.firstBytes.delete(slot);
    this.closedEnd.delete(slot);
    this.#free[this.#freeCount++] = slot;
    this.#held--;
  }

  /**
   * The slot and its generation as one small integer: what the runtime is handed to name
   * the client in a write's completion, which may come after the client has gone and its
   * slot was taken by another.
   */
  keyOf(slot: number): number {
    return slot + slotLimit * this.#generation[slot];
  }

  /** The slot a key names, or -1 when its client has gone since the key was made. */
  slotOf(key: number): number {
    const slot = key % slotLimit;
    const current = this.holds(slot) && this.keyOf(slot) === key;
    return current ? slot : -1;
  }

  /** The slots held, in no particular order. */
  *slots(): IterableIterator<number> {
    for (let slot = 0; slot < this.#used; slot++) {
      if (this.holds(slot)) yield slot;
    }
  }
}
