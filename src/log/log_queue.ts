/**
 * Writing log lines to stderr so that a reader that stalls (a pipe nobody reads, a
 * journald that lags) never stops the tarpit: a synchronous write to a full pipe would
 * block the event loop, and with it every client, the metrics and SIGTERM.
 *
 * Lines wait in a queue while a write is under way (the runtime writes on a thread of its
 * own and tells JavaScript when it is done). A burst, such as every client's CLOSE at a
 * stop, is queued whole up to a generous bound; only once a write has been under way for
 * {@link stalledAfterMs} does the reader count as behind, and then lines past a small
 * bound are dropped and counted, but for the few that must never be lost. That is timed
 * by a timer, which runs only when the event loop is free: a long turn of the program's
 * own (every CLOSE at a stop, on a starved machine) is not the reader being behind. Once writing
 * has caught up, {@link LogQueue.onRecovered} says how many were lost, and why. A stderr
 * left non-blocking (`EAGAIN`) is a reader that is behind, not one that is gone.
 *
 * @module
 */
import type { Family } from "../metrics/exposition.ts";

/** While the reader is behind, the most bytes of log lines that wait; past it, lines are dropped. */
export const stalledBytesLimit = 64 * 1024;

/** A write under way this long, while the program was free to see it end, means the reader is behind. */
export const stalledAfterMs = 1_000;

/**
 * Calls `fire` once {@link stalledAfterMs} have passed and the event loop is free; returns
 * what cancels it. A timer that keeps no process alive.
 */
export type StallTimer = (fire: () => void) => () => void;

const stallTimer: StallTimer = (fire) => {
  const id = setTimeout(fire, stalledAfterMs);
  Deno.unrefTimer(id);
  return () => clearTimeout(id);
};

/** How long to wait before writing again when stderr said `EAGAIN`. */
const retryMs = 20;

/**
 * The shortest time from the start of one write to the start of the next: lines that come
 * meanwhile go in one write. A write costs the runtime a hand-off to a thread of its own and
 * back, far more than making the lines in it, and a tarpit accepting thousands of clients a
 * second logs two lines each, one event-loop turn apart (`deno task bench --only accepts`
 * measures CPU per accept). A line after a quiet spell is written at once.
 */
export const writeIntervalMs = 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Why lines were dropped: the reader was behind, or more came at once than the queue holds. */
export type DropCause = "stalled" | "burst";

const encoder = new TextEncoder();

interface Queued {
  line: string;
  /** Lines with a key replace a queued line with the same key. */
  readonly key: string | undefined;
}

/**
 * A bounded, non-blocking queue of log lines for stderr.
 *
 * @example
 * ```ts
 * import { LogQueue } from "./log_queue.ts";
 * const queue = new LogQueue();
 * queue.onRecovered = (lost, cause) => queue.write(`LOG_DROPPED lines=${lost} cause=${cause}`);
 * queue.write("ACCEPT host=203.0.113.7 port=54208 fd=1 n=1/4096");
 * await queue.flush(1_000); // before exiting: while writes complete, each within 1 s
 * ```
 */
export class LogQueue {
  #queued: Queued[] = [];
  #bytes = 0;
  #writing: Promise<void> | undefined;
  /** Whether the write under way has outlasted the stall timer. */
  #stalled = false;
  /** When a write last completed. */
  #progressAt = 0;
  /** When the last write began. */
  #writeStartedAt = -Infinity;
  #droppedSinceWrite = 0;
  #dropCause: DropCause = "stalled";
  #gone = false;
  /** Lines dropped since start. */
  dropped = 0;
  /** Called with how many lines were dropped, and why, once writing has caught up again. */
  onRecovered: (lost: number, cause: DropCause) => void = () => {};

  /**
   * A queue writing to `sink`.
   *
   * @param sink writes some of the bytes it is given, returning how many; stderr's
   * asynchronous write by default
   * @param burstBytes the most bytes queued while the reader keeps up: enough for a
   * CLOSE line of every client the tarpit can hold
   * @param now the time, in ms
   * @param afterStall times a write under way; setTimeout by default
   * @param pause waits the given ms before a write {@link writeIntervalMs} would otherwise
   * start too soon; setTimeout by default
   */
  constructor(
    readonly sink: (bytes: Uint8Array) => Promise<number> = (bytes) => Deno.stderr.write(bytes),
    readonly burstBytes: number = 1024 * 1024,
    readonly now: () => number = () => performance.now(),
    readonly afterStall: StallTimer = stallTimer,
    readonly pause: (ms: number) => Promise<void> = sleep,
  ) {}

  /** Whether a write has been under way long enough that the reader counts as behind. */
  get stalled(): boolean {
    return this.#stalled;
  }

  /**
   * Queues one line (without its newline). When the queue is over its bound, the line is
   * dropped unless it is one to `keep` whatever happens (a warning, an error, the totals
   * at shutdown); those are few, and a kept line with a `key` replaces a queued one with
   * the same key, so a signal flood leaves one STATS line waiting, not thousands.
   */
  write(line: string, keep = false, key?: string): void {
    if (this.#gone) {
      this.dropped++;
      return;
    }
    if (key !== undefined) {
      const queued = this.#queued.find((q) => q.key === key);
      if (queued !== undefined) {
        this.#bytes += line.length - queued.line.length;
        queued.line = line;
        return;
      }
    }
    const bytes = line.length + 1;
    const stalled = this.stalled;
    if (!keep && this.#bytes + bytes > (stalled ? stalledBytesLimit : this.burstBytes)) {
      this.dropped++;
      this.#droppedSinceWrite++;
      if (!stalled) this.#dropCause = "burst";
      return;
    }
    this.#queued.push({ line, key });
    this.#bytes += bytes;
    this.#writing ??= this.#drain();
  }

  /** The metric family of the lines dropped. */
  families(): Family[] {
    return [{
      name: "tarpyt_log_lines_dropped_total",
      type: "counter",
      help: "Log lines dropped because stderr could not keep up.",
      samples: [["", {}, this.dropped]],
    }];
  }

  /**
   * Waits until every queued line is written, for as long as writes keep completing: it
   * gives up once none has for `idleMs` (the reader is stalled), and after `mostMs` in all.
   * A reader that keeps up gets every line, a stalled one cannot hold up the caller.
   */
  async flush(idleMs: number, mostMs = 10 * idleMs): Promise<void> {
    const deadline = this.now() + mostMs;
    this.#progressAt = this.now();
    while (this.#writing !== undefined && this.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => timer = setTimeout(resolve, idleMs));
      await Promise.race([this.#settled(), late]);
      clearTimeout(timer);
      if (this.now() - this.#progressAt >= idleMs) return;
    }
  }

  async #settled(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    let batch = 0;
    try {
      while (this.#queued.length > 0) {
        const wait = this.#writeStartedAt + writeIntervalMs - this.now();
        if (wait > 0) await this.pause(wait);
        this.#writeStartedAt = this.now();
        let data = encoder.encode(this.#queued.map((q) => q.line).join("\n") + "\n");
        batch = this.#queued.length;
        this.#queued = [];
        this.#bytes = 0;
        const cancel = this.afterStall(() => this.#stalled = true);
        try {
          while (data.length > 0) {
            data = data.subarray(await this.#write(data));
            this.#progressAt = this.now();
          }
        } finally {
          cancel();
          this.#stalled = false;
        }
        if (this.#droppedSinceWrite > 0 && this.#queued.length === 0) {
          const lost = this.#droppedSinceWrite;
          const cause = this.#dropCause;
          this.#droppedSinceWrite = 0;
          this.#dropCause = "stalled";
          this.onRecovered(lost, cause);
        }
      }
    } catch {
      // stderr is gone (its reader closed it): there is nowhere left to log.
      this.#gone = true;
      this.dropped += batch + this.#queued.length;
      this.#queued = [];
      this.#bytes = 0;
    } finally {
      this.#writing = undefined;
    }
  }

  /** One write; a full non-blocking stderr (`EAGAIN`) is waited out, not given up on. */
  async #write(data: Uint8Array): Promise<number> {
    for (;;) {
      try {
        return await this.sink(data);
      } catch (error) {
        if (!(error instanceof Deno.errors.WouldBlock)) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  }
}
