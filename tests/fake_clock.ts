/**
 * A clock that moves only when told: timing tested in microseconds, the same on any
 * machine.
 *
 * @module
 */
import type { Clock } from "../src/engine/pacing_clock.ts";

/** A {@link Clock} whose time moves by {@link FakeClock.advance} alone. */
export class FakeClock implements Clock {
  #now = 0;
  #armed: { at: number; fire: () => void } | undefined;

  now(): number {
    return this.#now;
  }

  arm(fire: () => void, ms: number): void {
    this.#armed = { at: this.#now + ms, fire };
  }

  disarm(): void {
    this.#armed = undefined;
  }

  /** Moves time forward by `ms`, firing the timer each time it comes due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    while (this.#armed !== undefined && this.#armed.at <= end) {
      const { at, fire } = this.#armed;
      this.#armed = undefined;
      this.#now = Math.max(this.#now, at);
      fire();
    }
    this.#now = end;
  }
}
