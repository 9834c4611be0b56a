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
 * V8 offers a full collection to JavaScript only as `gc()` under its `--expose-gc` flag,
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
    if (++this.#closed < Math.max(minClosesPerCollection, open / 4)) return;
    this.#closed = 0;
    this.#collect();
  }
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
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof gc === "function") return () => gc();
  throw new Error(
    "V8's gc() is missing: run TarPyt with --v8-flags=--expose-gc, as `deno task tarpyt` does",
  );
}
