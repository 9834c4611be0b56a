/**
 * One timer that paces every client, after endlessh.
 *
 * endlessh keeps clients in one FIFO ordered by the time their next line is due: with
 * one fixed delay, a client just served goes to the tail and the queue stays sorted, so
 * serving is O(1) and the only timer needed is the head's deadline. Jitter breaks the
 * order, so here each delay is a "lane": the delays `delay ± jitter` are rounded to a few
 * fixed values, each its own sorted FIFO, and an item picks a lane at random each turn.
 * The clock then looks at a handful of heads, never at every client.
 *
 * Lanes come in groups, one per kind of wait (a new client's first turn, a tick, a last
 * wait before closing): {@link PacingClock.schedule} puts an item in a random lane of the
 * group it names. The clock knows nothing of what the groups mean.
 *
 * Items are numbers below the clock's capacity (the engine's client slots), and the lists'
 * links live in typed arrays indexed by item: scheduling allocates nothing, removing a
 * client that left is O(1), and an item costs no object, only its elements.
 *
 * @module
 */
import { zeroed } from "../runtime/zeroed.ts";

/**
 * The time and the one timer a {@link PacingClock} runs on: real time by default
 * ({@link realTime}), a fake one in tests, so that timing is tested without waiting.
 */
export interface Clock {
  /** Monotonic time in ms. */
  now(): number;
  /** Calls `fire` once, `ms` from now, instead of any call armed before. */
  arm(fire: () => void, ms: number): void;
  /** Cancels the armed call, if any. */
  disarm(): void;
}

/**
 * A {@link Clock} on `performance.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * import { realTime } from "./pacing_clock.ts";
 * const clock = realTime();
 * clock.arm(() => console.log("a second later"), 1_000);
 * ```
 */
export function realTime(): Clock {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    // Whole milliseconds: grid points and lane delays are whole too, so turns that fall
    // together compare equal.
    now: () => Math.floor(performance.now()),
    arm(fire, ms): void {
      clearTimeout(timer);
      timer = setTimeout(fire, ms);
    },
    disarm(): void {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

interface Lane {
  readonly delayMs: number;
  /** Its group's shortest and longest delay: the bounds an item's turn stays within. */
  readonly shortestMs: number;
  readonly longestMs: number;
  /** The grid its items' turns fall on ({@link gridFor}); 0 for none. */
  readonly gridMs: number;
  /** The first and last item waiting in it; -1 when none. */
  head: number;
  tail: number;
}

/** The finest grid worth keeping: below it, turns are served where they fall. */
const finestGridMs = 10;

/**
 * The grid the turns of a group whose delays span `spanMs` fall on: the coarsest of a
 * second, or a second doubled or halved (to whole milliseconds) any number of times, that
 * the span holds twice, so that a turn has two or three grid points within its group's
 * bounds to fall on, and delays still vary; 0 when the span is too narrow. Every grid down
 * to 125 ms divides the coarser ones, so turns on different grids still share a wakeup,
 * and clients paced many seconds apart wake together a few seconds apart, not each second.
 *
 * @example
 * ```ts
 * import { gridFor } from "./pacing_clock.ts";
 * gridFor(8_000); // 4000
 * gridFor(2_000); // 1000
 * gridFor(800); // 250
 * gridFor(0); // 0
 * ```
 */
export function gridFor(spanMs: number): number {
  let grid = 1_000;
  while (4 * grid <= spanMs) grid *= 2;
  // Halved to whole milliseconds, as the clock's time is.
  for (; grid >= finestGridMs; grid = Math.floor(grid / 2)) {
    if (2 * grid <= spanMs) return grid;
  }
  return 0;
}

/** How many lanes jitter is spread over: enough to look random, few enough to scan. */
export const jitterLanes = 8;

/**
 * The lane delays for `delayMs ± jitterMs`: one lane without jitter, else
 * {@link jitterLanes} evenly spaced delays.
 *
 * @example
 * ```ts
 * import { laneDelays } from "./pacing_clock.ts";
 * laneDelays(10_000, 0); // [10000]
 * laneDelays(10_000, 3_500); // [6500, 7500, ..., 13500]
 * ```
 */
export function laneDelays(delayMs: number, jitterMs: number): number[] {
  if (jitterMs === 0) return [delayMs];
  return Array.from(
    { length: jitterLanes },
    (_, i) => Math.round(delayMs - jitterMs + (2 * jitterMs * i) / (jitterLanes - 1)),
  );
}

/**
 * Calls `onDue(item, now, group)` when a scheduled item comes due from a lane of
 * `group`; the item is then no longer scheduled, and `onDue` schedules it again, in any
 * group, or leaves it be.
 *
 * A wakeup costs the runtime far more than serving one item in it, so items share them.
 * A group's lanes bound when an item is due, not the very moment: each turn falls on the
 * grid point ({@link gridFor}) nearest its lane's delay, within the group's shortest and
 * longest, so turns of items paced seconds apart fall on the same whole seconds while
 * their delays keep their bounds and, near enough, their mean. Items due within a small
 * slack of each other (a twentieth of the shortest tick, at most 500 ms) are served
 * together too, so the timer fires at most a few dozen times a second however many
 * clients there are (`deno task bench` measures CPU per line, `deno task bench-pacing`
 * per held client).
 *
 * An item rescheduled while it is being served counts its next turn from when it was
 * due, not from when it was served: an item served late, as when the turn before took
 * long to serve thousands, is late once, not every turn after. An item more than a
 * quarter of the shortest tick late (the event loop stalled) counts from that quarter
 * before now, so a stall is not followed by a burst of catching up.
 *
 * @example
 * ```ts
 * import { PacingClock } from "./pacing_clock.ts";
 * const [arrival, tick] = [0, 1];
 * const clock = new PacingClock([[1_000], [10_000]], 10_000, (item, now) => {
 *   console.log("item", item, "due", now);
 *   clock.schedule(item, tick);
 * });
 * clock.schedule(0, arrival); // item 0: due after 1 s, then every 10 s
 * ```
 */
export class PacingClock {
  readonly #lanes: Lane[] = [];
  /** The first lane of each group, and then the end of the last. */
  readonly #groupStarts: number[] = [];
  /** The group of each lane. */
  readonly #groupOf: number[] = [];
  readonly #onDue: (item: number, now: number, group: number) => void;
  // Per item: when it is due, and its lane and neighbours, each + 1 so that the zeros the
  // arrays start with mean "none", and pages of items never scheduled are never written.
  readonly #dueAt: Float64Array;
  readonly #laneOf: Int32Array;
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  readonly #clock: Clock;
  readonly #slackMs: number;
  #armedFor = Infinity;
  /** Set while serving due items: they are rescheduled, and the timer armed once after. */
  #firing = false;
  /** The item being served, whose next turn counts from when it was due; -1 for none. */
  #serving = -1;
  /** How late an item may be and still count its next turn from when it was due. */
  readonly #catchUpMs: number;
  #size = 0;

  /**
   * A clock serving items from lanes grouped by what they pace.
   *
   * @param groups each group's lane delays (ms, each greater than 0), picked from at random
   * @param tickMs the shortest time between an item's turns, which sets the batching slack
   * @param onDue serves an item that came due from a lane of `group`
   * @param clock the time and the timer; {@link realTime} by default
   * @param capacity items are numbers from 0 to this, less one
   */
  constructor(
    groups: readonly (readonly number[])[],
    tickMs: number,
    onDue: (item: number, now: number, group: number) => void,
    clock: Clock = realTime(),
    capacity = 1_024,
  ) {
    this.#dueAt = zeroed(Float64Array, capacity);
    this.#laneOf = zeroed(Int32Array, capacity);
    this.#prev = zeroed(Int32Array, capacity);
    this.#next = zeroed(Int32Array, capacity);
    for (const [group, delays] of groups.entries()) {
      this.#groupStarts.push(this.#lanes.length);
      const shortestMs = Math.min(...delays), longestMs = Math.max(...delays);
      const gridMs = gridFor(longestMs - shortestMs);
      for (const delayMs of delays) {
        this.#lanes.push({ delayMs, shortestMs, longestMs, gridMs, head: -1, tail: -1 });
        this.#groupOf.push(group);
      }
    }
    this.#groupStarts.push(this.#lanes.length);
    this.#onDue = onDue;
    this.#clock = clock;
    this.#slackMs = Math.min(500, Math.max(1, Math.floor(tickMs / 20)));
    this.#catchUpMs = Math.floor(tickMs / 4);
  }

  /** How many items are scheduled. */
  get size(): number {
    return this.#size;
  }

  /**
   * Schedules an unscheduled item in a random lane of `group`, from `now`: the time an
   * `onDue` call was given, or the clock's.
   */
  schedule(item: number, group: number, now: number = this.#clock.now()): void {
    const first = this.#groupStarts[group];
    const lanes = this.#groupStarts[group + 1] - first;
    const laneIndex = lanes === 1 ? first : first + Math.floor(Math.random() * lanes);
    const lane = this.#lanes[laneIndex];
    // The item goes to the tail of its lane. Runs for every piece: each column read once.
    const dueAts = this.#dueAt, next = this.#next;
    const from = item === this.#serving ? Math.max(dueAts[item], now - this.#catchUpMs) : now;
    const dueAt = onGrid(lane, from);
    dueAts[item] = dueAt;
    this.#laneOf[item] = laneIndex + 1;
    const tail = lane.tail;
    this.#prev[item] = tail + 1;
    next[item] = 0;
    if (tail !== -1) next[tail] = item + 1;
    else lane.head = item;
    lane.tail = item;
    this.#size++;
    if (!this.#firing && dueAt < this.#armedFor) this.#arm(dueAt, now);
  }

  /** The group an item is scheduled in, or -1 when it is not scheduled. */
  groupOf(item: number): number {
    const lane = this.#laneOf[item] - 1;
    return lane === -1 ? -1 : this.#groupOf[lane];
  }

  /** When the item is, or was last, due. */
  dueAt(item: number): number {
    return this.#dueAt[item];
  }

  /** Unschedules an item; removing one that is not scheduled does nothing. */
  remove(item: number): void {
    if (this.#laneOf[item] === 0) return;
    this.#unlink(item);
    this.#size--;
  }

  /** Stops the timer; items stay scheduled but are no longer served. */
  stop(): void {
    this.#clock.disarm();
    this.#armedFor = -Infinity; // never re-arm from schedule()
  }

  #fire = (): void => {
    this.#armedFor = Infinity;
    this.#firing = true;
    const now = this.#clock.now();
    const horizon = now + this.#slackMs;
    const dueAt = this.#dueAt, next = this.#next, prev = this.#prev, laneOf = this.#laneOf;
    for (let index = 0; index < this.#lanes.length; index++) {
      const lane = this.#lanes[index];
      const group = this.#groupOf[index];
      // An item served now is scheduled again at now + a lane delay, past the horizon.
      for (let item = lane.head; item !== -1 && dueAt[item] <= horizon; item = lane.head) {
        // The head leaves its lane: #unlink, inlined, as this runs for every piece. The
        // links of an item not scheduled are never read, so its own are left as they are.
        const after = next[item] - 1;
        lane.head = after;
        if (after === -1) lane.tail = -1;
        else prev[after] = 0;
        laneOf[item] = 0;
        this.#size--;
        this.#serving = item;
        this.#onDue(item, now, group);
      }
    }
    this.#firing = false;
    this.#serving = -1;
    let soonest = Infinity;
    for (const lane of this.#lanes) {
      if (lane.head !== -1 && dueAt[lane.head] < soonest) soonest = dueAt[lane.head];
    }
    if (soonest < Infinity) this.#arm(soonest, now);
  };

  #arm(dueAt: number, now: number): void {
    if (this.#armedFor === -Infinity) return; // stopped
    this.#armedFor = dueAt;
    this.#clock.arm(this.#fire, Math.max(0, dueAt - now));
  }

  #unlink(item: number): void {
    const lane = this.#lanes[this.#laneOf[item] - 1];
    const prev = this.#prev[item] - 1, next = this.#next[item] - 1;
    if (prev !== -1) this.#next[prev] = next + 1;
    else lane.head = next;
    if (next !== -1) this.#prev[next] = prev + 1;
    else lane.tail = prev;
    this.#laneOf[item] = 0;
  }
}

/**
 * When an item scheduled in `lane` at `from` is due: the grid point nearest to its lane's
 * delay, within its group's bounds (the group's span holds grid points, see
 * {@link gridFor}). Later `from`, never earlier due, so a lane stays in order.
 */
function onGrid(lane: Lane, from: number): number {
  const dueAt = from + lane.delayMs, grid = lane.gridMs;
  if (grid === 0) return dueAt;
  const point = Math.round(dueAt / grid) * grid;
  if (point < from + lane.shortestMs) return point + grid;
  if (point > from + lane.longestMs) return point - grid;
  return point;
}
