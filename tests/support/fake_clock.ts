/**
 * A clock that moves only when told: timing tested to the millisecond, the same on any
 * machine. It is both the engine's {@link Clock} (one armed timer) and the service's
 * {@link Ticker} (periodic timers).
 *
 * @module
 */
import type { Clock } from "../../src/engine/pacing_clock.ts";
import type { Ticker } from "../../src/service/service.ts";

interface Interval {
  next: number;
  readonly every: number;
  readonly tick: () => void;
}

/** A {@link Clock} and {@link Ticker} whose time moves by {@link FakeClock.advance} alone. */
export class FakeClock implements Clock, Ticker {
  /** How late the armed timer fires, as a real one fires late by a little. */
  lateMs = 0;
  #now = 0;
  #armed: { at: number; fire: () => void } | undefined;
  readonly #intervals = new Set<Interval>();

  now(): number {
    return this.#now;
  }

  arm(fire: () => void, ms: number): void {
    this.#armed = { at: this.#now + ms + this.lateMs, fire };
  }

  disarm(): void {
    this.#armed = undefined;
  }

  every(ms: number, tick: () => void): () => void {
    const interval = { next: this.#now + ms, every: ms, tick };
    this.#intervals.add(interval);
    return () => this.#intervals.delete(interval);
  }

  /**
   * Moves time forward by `ms`, firing each timer as it comes due on the way, in order
   * (the armed one first on a tie), and running the microtasks each leaves behind.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settled(); // what was queued before time moves runs first, as it would
    for (;;) {
      const armedAt = this.#armed?.at ?? Infinity;
      let interval: Interval | undefined;
      for (const one of this.#intervals) if (!interval || one.next < interval.next) interval = one;
      const at = Math.min(armedAt, interval?.next ?? Infinity);
      if (at > end) break;
      this.#now = Math.max(this.#now, at);
      if (armedAt === at) {
        const { fire } = this.#armed!;
        this.#armed = undefined;
        fire();
      } else {
        interval!.next += interval!.every;
        interval!.tick();
      }
      await settled();
    }
    this.#now = end;
    await settled();
  }
}

/** Lets the microtasks queued so far run. */
function settled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
