/**
 * Giving back the memory of closed connections while connections keep closing.
 *
 * Closing a connection's handle closes its socket at once, but the handle's native
 * memory (a few hundred bytes) is freed only when V8 collects the handle's JavaScript object,
 * and only a full collection does that. The tarpit makes next to no JavaScript garbage,
 * so V8 sees no reason for one. Under churn, connections closing by the hundred thousand,
 * RSS doubles before V8's own memory reducer runs, and by then glibc's heap is too
 * fragmented to give the freed memory back. Collecting after every
 * {@link minClosesPerCollection} closed handles keeps RSS near idle: `deno task churn`
 * measures it, and tests/system/churn_test.ts fails without it.
 *
 * A burst of arrivals leaves garbage of its own (their log lines, their events), which
 * V8 collects in time but whose pages it keeps for reuse, so the memory a scan took stays
 * taken after it. {@link ArrivalBursts} gives it back once a burst is over.
 *
 * V8 offers its collections to JavaScript only as `gc()` under its `--expose-gc` flag,
 * which the `tarpyt` task in `deno.json`, and so the binary, passes.
 *
 * @module
 */

/** The fewest closed handles between two full collections. */
export const minClosesPerCollection = 1024;

/**
 * Counts closed handles and runs a full collection once enough have piled up: after
 * {@link minClosesPerCollection}, or a quarter of the handles still open if that is more.
 * A full collection costs time in proportion to what is held, so this keeps its cost per
 * closed connection the same at any size, and lets the closed ones waiting for it add at
 * most a quarter to the memory held.
 *
 * @example
 * ```ts
 * import { ClosedHandleCollector } from "./closed_handles.ts";
 * let collections = 0;
 * const collector = new ClosedHandleCollector(() => collections++);
 * for (let i = 0; i < 2048; i++) collector.closed(100);
 * console.log(collections); // 2
 * ```
 */
export class ClosedHandleCollector {
  readonly #collect: () => void;
  #closed = 0;

  /** A collector that calls `collect` for a full collection. */
  constructor(collect: () => void) {
    this.#collect = collect;
  }

  /** Counts one closed handle; `open` is how many are still open. */
  closed(open: number): void {
    if (!enoughFor(++this.#closed, minClosesPerCollection, open)) return;
    this.#closed = 0;
    this.#collect();
  }
}

/** The fewest arrivals that make a burst worth giving memory back after. */
export const minArrivalsPerBurst = 1024;

/**
 * How often a burst is checked for being over; it is over once fewer than a tenth of
 * {@link minArrivalsPerBurst} arrived in that time.
 */
export const burstCheckMs = 2_000;

/**
 * Counts arrivals and, once a burst of them has come and then they have nearly stopped,
 * gives back the memory they took ({@link memoryReducingCollection}). A burst is
 * {@link minArrivalsPerBurst}, or a quarter of the connections open if that is more: the
 * collection costs time in proportion to what is held, so its cost per arrival stays the
 * same at any size, and bursts of a thousand connections cannot make a tarpit that holds
 * a million collect all it holds every few seconds. It looks every {@link burstCheckMs}
 * while a burst may be under way, and not at all otherwise: an arrival costs a count.
 *
 * @example
 * ```ts
 * import { ArrivalBursts } from "./closed_handles.ts";
 * let givenBack = 0;
 * const bursts = new ArrivalBursts(() => givenBack++);
 * for (let i = 0; i < 5_000; i++) bursts.arrived(i);
 * // some seconds later, no more arrivals: givenBack === 1
 * ```
 */
export class ArrivalBursts {
  readonly #giveBack: () => void;
  readonly #later: (check: () => void, ms: number) => void;
  /** Arrivals since memory was last given back, and when the last check looked. */
  #arrivals = 0;
  #arrivalsChecked = 0;
  #checking = false;

  /**
   * Bursts that end in `giveBack`, checked with `later` (an unreferenced `setTimeout` by
   * default: a check never keeps the process alive).
   */
  constructor(
    giveBack: () => void,
    later: (check: () => void, ms: number) => void = (check, ms) =>
      Deno.unrefTimer(setTimeout(check, ms)),
  ) {
    this.#giveBack = giveBack;
    this.#later = later;
  }

  /** Counts one arrival; `open` is how many connections are open with it. */
  arrived(open: number): void {
    if (!enoughFor(++this.#arrivals, minArrivalsPerBurst, open) || this.#checking) return;
    this.#checkLater();
  }

  #checkLater(): void {
    this.#checking = true;
    this.#arrivalsChecked = this.#arrivals;
    this.#later(this.#check, burstCheckMs);
  }

  #check = (): void => {
    this.#checking = false;
    if (this.#arrivals - this.#arrivalsChecked >= minArrivalsPerBurst / 10) {
      this.#checkLater();
      return;
    }
    this.#arrivals = 0;
    this.#giveBack();
  };
}

/**
 * Whether `count` events make a collection worth its cost: at least `least`, and a quarter
 * of the `open` connections, as a collection costs time in proportion to what is held.
 */
function enoughFor(count: number, least: number, open: number): boolean {
  return count >= Math.max(least, open / 4);
}

/**
 * V8's full collection, `gc()`, which exists only under `--expose-gc`.
 *
 * @example
 * ```ts ignore
 * const collect = fullCollection(); // throws without --v8-flags=--expose-gc
 * collect();
 * ```
 */
export function fullCollection(): () => void {
  const gc = exposedGc();
  return () => gc();
}

/**
 * V8's collection of all it can, `gc()` with the `last-resort` flavor: full collections
 * until nothing more is freed, which then gives back to the system the pages V8 kept for
 * reuse, as its memory reducer does on its own only when the process looks idle to it
 * (tests/unit/closed_handles_test.ts proves it of the runtime). It costs several full
 * collections: it is for when a burst is over, not for every few closes.
 *
 * @example
 * ```ts ignore
 * const giveBack = memoryReducingCollection(); // throws without --v8-flags=--expose-gc
 * giveBack();
 * ```
 */
export function memoryReducingCollection(): () => void {
  const gc = exposedGc();
  return () => gc({ type: "major", execution: "sync", flavor: "last-resort" });
}

/** `gc()` as `--expose-gc` makes it: with no options, a full collection. */
type Gc = (options?: { type: string; execution: string; flavor: string }) => void;

function exposedGc(): Gc {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof gc === "function") return gc as Gc;
  throw new Error(
    "V8's gc() is missing: run TarPyt with --v8-flags=--expose-gc, as `deno task tarpyt` does",
  );
}
