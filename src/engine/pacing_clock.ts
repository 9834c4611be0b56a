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
 * The lists are intrusive: the links live in the paced items themselves, so scheduling
 * allocates nothing and removing a client that left is O(1).
 *
 * @module
 */

/** The clock's bookkeeping, carried by each paced item. Initialise with {@link unscheduled}. */
export interface Paced {
  /** When the item is due, in {@link Clock} time (ms). */
  dueAt: number;
  /** The lane the item waits in; -1 when it is not scheduled. */
  lane: number;
  /** The item before it in its lane, or null at the head. */
  prev: Paced | null;
  /** The item after it in its lane, or null at the tail. */
  next: Paced | null;
}

/** The field values of an item that is not scheduled. */
export const unscheduled: Readonly<Paced> = { dueAt: 0, lane: -1, prev: null, next: null };

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
    // Whole milliseconds: V8 keeps an integer in a client's record itself, and a
    // fraction in a box of its own for each of the times the record holds.
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
  head: Paced | null;
  tail: Paced | null;
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
  // Halved to whole milliseconds: a time in a client's record stays an integer.
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
 * import { PacingClock, unscheduled } from "./pacing_clock.ts";
 * const [arrival, tick] = [0, 1];
 * const clock = new PacingClock([[1_000], [10_000]], 10_000, (item, now) => {
 *   console.log("due", now);
 *   clock.schedule(item, tick);
 * });
 * clock.schedule({ ...unscheduled }, arrival); // due after 1 s, then every 10 s
 * ```
 */
export class PacingClock<T extends Paced> {
  readonly #lanes: Lane[] = [];
  /** The first lane of each group, and then the end of the last. */
  readonly #groupStarts: number[] = [];
  /** The group of each lane. */
  readonly #groupOf: number[] = [];
  readonly #onDue: (item: T, now: number, group: number) => void;
  readonly #clock: Clock;
  readonly #slackMs: number;
  #armedFor = Infinity;
  /** Set while serving due items: they are rescheduled, and the timer armed once after. */
  #firing = false;
  /** The item being served, whose next turn counts from when it was due. */
  #serving: T | undefined;
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
   */
  constructor(
    groups: readonly (readonly number[])[],
    tickMs: number,
    onDue: (item: T, now: number, group: number) => void,
    clock: Clock = realTime(),
  ) {
    for (const [group, delays] of groups.entries()) {
      this.#groupStarts.push(this.#lanes.length);
      const shortestMs = Math.min(...delays), longestMs = Math.max(...delays);
      const gridMs = gridFor(longestMs - shortestMs);
      for (const delayMs of delays) {
        this.#lanes.push({ delayMs, shortestMs, longestMs, gridMs, head: null, tail: null });
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
  schedule(item: T, group: number, now: number = this.#clock.now()): void {
    const first = this.#groupStarts[group];
    const lanes = this.#groupStarts[group + 1] - first;
    const from = item === this.#serving ? Math.max(item.dueAt, now - this.#catchUpMs) : now;
    this.#append(item, from, lanes === 1 ? first : first + Math.floor(Math.random() * lanes));
    this.#size++;
    if (!this.#firing && item.dueAt < this.#armedFor) this.#arm(item.dueAt, now);
  }

  /** The group an item is scheduled in, or -1 when it is not scheduled. */
  groupOf(item: T): number {
    return item.lane === -1 ? -1 : this.#groupOf[item.lane];
  }

  /** Unschedules an item; removing one that is not scheduled does nothing. */
  remove(item: T): void {
    if (item.lane === -1) return;
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
    for (let index = 0; index < this.#lanes.length; index++) {
      const lane = this.#lanes[index];
      const group = this.#groupOf[index];
      // An item served now is scheduled again at now + a lane delay, past the horizon.
      for (let item = lane.head; item !== null && item.dueAt <= horizon; item = lane.head) {
        // The head leaves its lane: #unlink, inlined, as this runs for every piece.
        lane.head = item.next;
        if (lane.head === null) lane.tail = null;
        else lane.head.prev = null;
        item.next = null;
        item.lane = -1;
        this.#size--;
        this.#serving = item as T;
        this.#onDue(item as T, now, group);
      }
    }
    this.#firing = false;
    this.#serving = undefined;
    let next = Infinity;
    for (const lane of this.#lanes) {
      if (lane.head !== null && lane.head.dueAt < next) next = lane.head.dueAt;
    }
    if (next < Infinity) this.#arm(next, now);
  };

  #arm(dueAt: number, now: number): void {
    if (this.#armedFor === -Infinity) return; // stopped
    this.#armedFor = dueAt;
    this.#clock.arm(this.#fire, Math.max(0, dueAt - now));
  }

  #append(item: Paced, from: number, laneIndex: number): void {
    const lane = this.#lanes[laneIndex];
    item.lane = laneIndex;
    item.dueAt = onGrid(lane, from);
    item.next = null;
    item.prev = lane.tail;
    if (lane.tail) lane.tail.next = item;
    else lane.head = item;
    lane.tail = item;
  }

  #unlink(item: Paced): void {
    const lane = this.#lanes[item.lane];
    if (item.prev) item.prev.next = item.next;
    else lane.head = item.next;
    if (item.next) item.next.prev = item.prev;
    else lane.tail = item.prev;
    item.prev = item.next = null;
    item.lane = -1;
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
