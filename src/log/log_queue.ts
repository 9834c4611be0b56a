/**
 * Writing log lines to stderr so that a reader that stalls (a pipe nobody reads, a
 * journald that lags) never stops the tarpit: a synchronous write to a full pipe would
 * block the event loop, and with it every client, the metrics and SIGTERM.
 *
 * Lines wait in a bounded queue while a write is under way (the runtime writes on a
 * thread of its own and tells JavaScript when it is done). When the queue is full, lines
 * are dropped and counted, but for the few that must never be lost; once writing has
 * caught up, {@link LogQueue.onRecovered} says how many were.
 *
 * @module
 */

/** The most bytes of log lines that wait for the reader; past it, lines are dropped. */
export const queuedBytesLimit = 64 * 1024;

const encoder = new TextEncoder();

/**
 * A bounded, non-blocking queue of log lines for stderr.
 *
 * @example
 * ```ts
 * import { LogQueue } from "./log_queue.ts";
 * const queue = new LogQueue();
 * queue.onRecovered = (lost) => queue.write(`LOG_DROPPED lines=${lost}`);
 * queue.write("ACCEPT host=203.0.113.7 port=54208 fd=1 n=1/4096");
 * await queue.flush(1_000); // before exiting
 * ```
 */
export class LogQueue {
  #lines: string[] = [];
  #bytes = 0;
  #writing: Promise<void> | undefined;
  #droppedSinceWrite = 0;
  /** Lines dropped since start because the reader could not keep up. */
  dropped = 0;
  /** Called with how many lines were dropped, once writing has caught up again. */
  onRecovered: (lost: number) => void = () => {};

  /**
   * A queue writing to `sink`.
   *
   * @param sink writes some of the bytes it is given, returning how many; stderr's
   * asynchronous write by default
   */
  constructor(
    readonly sink: (bytes: Uint8Array) => Promise<number> = (bytes) => Deno.stderr.write(bytes),
  ) {}

  /**
   * Queues one line (without its newline); drops it when the queue is full, unless it is
   * one to `keep` whatever happens: a warning, an error, the totals at shutdown. Those are
   * few, so they cannot grow the queue without bound.
   */
  write(line: string, keep = false): void {
    const bytes = line.length + 1;
    if (!keep && this.#bytes + bytes > queuedBytesLimit) {
      this.dropped++;
      this.#droppedSinceWrite++;
      return;
    }
    this.#lines.push(line);
    this.#bytes += bytes;
    this.#writing ??= this.#drain();
  }

  /** Waits until every queued line is written, or `ms` milliseconds, whichever is first. */
  async flush(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
    await Promise.race([this.#settled(), late]);
    clearTimeout(timer);
  }

  async #settled(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#lines.length > 0) {
        let data = encoder.encode(this.#lines.join("\n") + "\n");
        this.#lines = [];
        this.#bytes = 0;
        while (data.length > 0) data = data.subarray(await this.sink(data));
        if (this.#droppedSinceWrite > 0 && this.#lines.length === 0) {
          const lost = this.#droppedSinceWrite;
          this.#droppedSinceWrite = 0;
          this.onRecovered(lost);
        }
      }
    } catch {
      // stderr is gone (its reader closed it): there is nowhere left to log.
    } finally {
      this.#writing = undefined;
    }
  }
}
