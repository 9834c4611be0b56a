/**
 * One timer that paces every client, after endlessh.
 *
 * endlessh keeps clients in one FIFO ordered by the time their next line is due: with
 * one fixed delay, a client just served goes to the tail and the queue stays sorted, so
 * serving is O(1) and the only timer needed is the head's deadline. Jitter breaks the
 * order, so here each delay is a "lane": the delays `delay ± jitter` are rounded to a few
 * fixed values, each its own sorted FIFO, and a client picks a lane at random for each
 * line. The clock then looks at a handful of heads, never at every client.
 *
 * A new item waits in a lane of its own for its first turn, which may be shorter than
 * the others: every item in it arrived with the same delay, so it stays sorted too.
 *
 * The lists are intrusive: the links live in the paced items themselves, so scheduling
 * allocates nothing and removing a client that left is O(1).
 *
 * @module
 */

/** The clock's bookkeeping, carried by each paced item. Initialise with {@link unscheduled}. */
export interface Paced {
  /** When the next line is due, in {@link PacingClock} time (ms). */
  dueAt: number;
  /** The lane the item waits in; -1 when it is not scheduled. */
  lane: number;
  prev: Paced | null;
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
    now: () => performance.now(),
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
  head: Paced | null;
  tail: Paced | null;
}

/** The lane an item waits in for its first turn. */
const arrivalLane = 0;

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
 * Calls `onDue(item, now)` for each scheduled item first after the first delay, then
 * every lane delay, until the item is removed. An item is rescheduled before `onDue`
 * runs, so `onDue` may remove it.
 *
 * Items due within a small slack of each other (a hundredth of the shortest lane delay,
 * the first delay aside, at most 100 ms) are served together, so the timer fires at most
 * a few dozen times a second however many clients there are.
 *
 * @example
 * ```ts
 * import { PacingClock, unscheduled } from "./pacing_clock.ts";
 * const clock = new PacingClock([10_000], 1_000, (item, now) => console.log("due", now));
 * clock.add({ ...unscheduled }); // due after 1 s, 11 s, 21 s, ...
 * // later: clock.remove(item); clock.stop();
 * ```
 */
export class PacingClock<T extends Paced> {
  readonly #lanes: Lane[];
  readonly #onDue: (item: T, now: number) => void;
  readonly #clock: Clock;
  readonly #slackMs: number;
  #armedFor = Infinity;
  #size = 0;

  /**
   * @param delaysMs one delay per lane, each greater than 0
   * @param firstDelayMs the delay before an item's first turn, greater than 0
   * @param onDue serves an item that is due
   * @param clock the time and the timer; {@link realTime} by default
   */
  constructor(
    delaysMs: readonly number[],
    firstDelayMs: number,
    onDue: (item: T, now: number) => void,
    clock: Clock = realTime(),
  ) {
    // Lane 0 is the arrival lane; the others are picked from at random.
    this.#lanes = [firstDelayMs, ...delaysMs].map((delayMs) => ({
      delayMs,
      head: null,
      tail: null,
    }));
    this.#onDue = onDue;
    this.#clock = clock;
    this.#slackMs = Math.min(100, Math.max(1, Math.floor(Math.min(...delaysMs) / 100)));
  }

  /** How many items are scheduled. */
  get size(): number {
    return this.#size;
  }

  /** Schedules an unscheduled item: first due the first delay from now. */
  add(item: T): void {
    const now = this.#clock.now();
    this.#append(item, now, arrivalLane);
    this.#size++;
    if (item.dueAt < this.#armedFor) this.#arm(item.dueAt, now);
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
    this.#armedFor = -Infinity; // never re-arm from add()
  }

  #fire = (): void => {
    this.#armedFor = Infinity;
    const now = this.#clock.now();
    const horizon = now + this.#slackMs;
    for (const lane of this.#lanes) {
      // A served item goes back at now + a lane delay, past the horizon: the loop ends.
      for (let item = lane.head; item !== null && item.dueAt <= horizon; item = lane.head) {
        this.#unlink(item);
        this.#append(item, now, this.#randomLane());
        this.#onDue(item as T, now);
      }
    }
    const next = Math.min(...this.#lanes.map((lane) => lane.head?.dueAt ?? Infinity));
    if (next < this.#armedFor) this.#arm(next, now);
  };

  #arm(dueAt: number, now: number): void {
    if (this.#armedFor === -Infinity) return;
    this.#armedFor = dueAt;
    this.#clock.arm(this.#fire, Math.max(0, dueAt - now));
  }

  #randomLane(): number {
    const lanes = this.#lanes.length - 1;
    return lanes === 1 ? 1 : 1 + Math.floor(Math.random() * lanes);
  }

  #append(item: Paced, now: number, laneIndex: number): void {
    const lane = this.#lanes[laneIndex];
    item.lane = laneIndex;
    item.dueAt = now + lane.delayMs;
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
