/**
 * The log queue with a sink the test controls: a reader that keeps up loses nothing, even
 * in a burst; a reader that is behind costs info lines, counted and said; `EAGAIN` is a
 * reader behind, not one gone; a signal flood leaves one STATS line waiting.
 *
 * @module
 */
import { assert, assertEquals } from "../support/assert.ts";
import { LogQueue, stalledBytesLimit, type StallTimer } from "../../src/log/log_queue.ts";
import { createLogger } from "../../src/log/logger.ts";
import { logStats, queuedLines } from "../../src/log/vocabulary.ts";

/** A sink the test drives: it takes everything at once, or holds each write until released. */
class Sink {
  written = "";
  held = false;
  wouldBlock = 0;
  gone = false;
  readonly #waiting: (() => void)[] = [];

  write = (bytes: Uint8Array): Promise<number> => {
    if (this.gone) return Promise.reject(new Deno.errors.BrokenPipe("gone"));
    if (this.wouldBlock > 0) {
      this.wouldBlock--;
      return Promise.reject(new Deno.errors.WouldBlock("EAGAIN"));
    }
    const take = (): number => {
      this.written += new TextDecoder().decode(bytes);
      return bytes.length;
    };
    if (!this.held) return Promise.resolve(take());
    return new Promise((resolve) => this.#waiting.push(() => resolve(take())));
  };

  release(): void {
    this.held = false;
    for (const go of this.#waiting.splice(0)) go();
  }

  lines(): string[] {
    return this.written.split("\n").filter(Boolean);
  }
}

/** A stall timer the test fires, as the runtime fires one once the loop is free. */
function manualStall(): { timer: StallTimer; fire: () => void } {
  let pending: (() => void) | undefined;
  return {
    timer: (fire) => {
      pending = fire;
      return () => pending = undefined;
    },
    fire: () => pending?.(),
  };
}

const closeLine = (i: number) =>
  `<6>CLOSE host=203.0.113.${i % 250} port=${40_000 + i} fd=${i} time=1060.390 bytes=4402 ` +
  `left=closed family=unknown`;

Deno.test("a burst of 4,096 CLOSE lines in one turn, to a reader that keeps up, loses none", async () => {
  const sink = new Sink();
  const queue = new LogQueue(sink.write);
  for (let i = 0; i < 4_096; i++) queue.write(closeLine(i));
  await queue.flush(5_000);
  assertEquals([sink.lines().length, queue.dropped], [4_096, 0]);
});

Deno.test("lines that come within 20 ms of a write's start wait and go in the next write together", async () => {
  let now = 0;
  const writes: string[] = [];
  const sink = (bytes: Uint8Array) => {
    writes.push(new TextDecoder().decode(bytes));
    return Promise.resolve(bytes.length);
  };
  let resume: (() => void) | undefined;
  const pauses: number[] = [];
  const pause = (ms: number) => {
    pauses.push(ms);
    return new Promise<void>((resolve) => resume = resolve);
  };
  const queue = new LogQueue(sink, 1024 * 1024, () => now, manualStall().timer, pause);
  queue.write("ACCEPT fd=1");
  await queue.flush(1_000); // written at once: nothing was written before it
  // The next lines come a turn apart, each after the write before completed, as a
  // tarpit accepting thousands of clients a second logs them.
  for (const line of ["CLOSE fd=1", "ACCEPT fd=2", "CLOSE fd=2"]) {
    now += 1;
    queue.write(line);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assertEquals(pauses, [19], "the first of them waits out the 20 ms since the last write began");
  resume!();
  await queue.flush(1_000);
  assertEquals(writes, ["ACCEPT fd=1\n", "CLOSE fd=1\nACCEPT fd=2\nCLOSE fd=2\n"]);
  now += 100;
  queue.write("STATS clients=0");
  await queue.flush(1_000);
  assertEquals(pauses, [19], "a line after a quiet spell is written at once");
  assertEquals(writes.length, 3);
});

Deno.test("a long turn of the program's own is no stalled reader: the burst after a write began loses none", async () => {
  let now = 0;
  const sink = new Sink();
  const queue = new LogQueue(sink.write, 1024 * 1024, () => now, manualStall().timer);
  queue.write("<6>STATS clients=4096");
  // Every CLOSE at a stop, in one turn that a starved machine makes last seconds: the
  // write before it cannot have been seen to end, whatever the clock says.
  for (let i = 0; i < 4_096; i++) {
    now += 1;
    queue.write(closeLine(i));
  }
  await queue.flush(5_000);
  assertEquals([sink.lines().length, queue.dropped], [4_097, 0]);
});

Deno.test("a reader behind for a second costs info lines past 64 KiB, counted and said as stalled", async () => {
  const stall = manualStall();
  const sink = new Sink();
  const recovered: [number, string][] = [];
  const queue = new LogQueue(sink.write, 1024 * 1024, undefined, stall.timer);
  queue.onRecovered = (lost, cause) => recovered.push([lost, cause]);
  sink.held = true;
  queue.write("first");
  stall.fire(); // the write has been under way a second, the loop free: the reader is behind
  for (let i = 0; i < 4_096; i++) queue.write(closeLine(i));
  queue.write("<4>FULL n=2/2 times=1", true);
  assert(queue.dropped > 0, "info lines dropped once the reader is behind");
  const kept = 4_096 - queue.dropped;
  assert(kept * closeLine(0).length <= stalledBytesLimit, `${kept} lines kept`);
  sink.release();
  await queue.flush(1_000);
  assertEquals(recovered, [[queue.dropped, "stalled"]]);
  assert(sink.written.includes("FULL"), "a warning is never dropped");
});

Deno.test("more at once than the burst bound is dropped too, and said as a burst", async () => {
  const sink = new Sink();
  const recovered: [number, string][] = [];
  const queue = new LogQueue(sink.write, 10_000);
  queue.onRecovered = (lost, cause) => recovered.push([lost, cause]);
  for (let i = 0; i < 1_000; i++) queue.write(closeLine(i));
  await queue.flush(1_000);
  assert(queue.dropped > 0);
  assertEquals(recovered, [[queue.dropped, "burst"]]);
});

Deno.test("EAGAIN from a non-blocking stderr is waited out: nothing lost, nothing given up", async () => {
  const sink = new Sink();
  const queue = new LogQueue(sink.write);
  sink.wouldBlock = 5;
  for (let i = 0; i < 100; i++) queue.write(closeLine(i));
  await queue.flush(5_000);
  queue.write("after");
  await queue.flush(1_000);
  assertEquals([sink.lines().length, queue.dropped], [101, 0]);
});

Deno.test("a flood of STATS while the reader is behind leaves one waiting, the latest", async () => {
  const stall = manualStall();
  const sink = new Sink();
  const queue = new LogQueue(sink.write, 1024 * 1024, undefined, stall.timer);
  sink.held = true;
  queue.write("first");
  stall.fire();
  for (let i = 0; i < 100_000; i++) queue.write(`<6>STATS clients=${i}`, true, "STATS");
  sink.release();
  await queue.flush(1_000);
  assertEquals(sink.lines(), ["first", "<6>STATS clients=99999"]);
});

Deno.test("the logger's STATS lines wait one at a time: a signal flood grows nothing", async () => {
  const stall = manualStall();
  const sink = new Sink();
  const queue = new LogQueue(sink.write, 1024 * 1024, undefined, stall.timer);
  const log = createLogger({ level: "info", journal: true, write: queuedLines(queue) });
  sink.held = true;
  queue.write("first");
  stall.fire();
  const totals = { connects: 1, clientsNow: 1, bytesSent: 1, trappedMs: 1 };
  for (let i = 0; i < 10_000; i++) logStats(log, { ...totals, connects: i }, []);
  sink.release();
  await queue.flush(1_000);
  assertEquals(sink.lines().length, 2);
  assert(sink.lines()[1].startsWith("<6>STATS clients=1 connects=9999 "), sink.lines()[1]);
});

Deno.test("once stderr is gone, lines are counted as dropped", async () => {
  const sink = new Sink();
  const queue = new LogQueue(sink.write);
  sink.gone = true;
  queue.write("lost");
  await queue.flush(1_000);
  queue.write("lost too");
  assertEquals(queue.dropped, 2);
});

Deno.test("a flush waits as long as writes keep completing, and gives up on a stalled reader", async () => {
  // A reader that takes 30 ms a write: slow, but keeping up.
  const slow = new Sink();
  const slowQueue = new LogQueue((bytes) =>
    new Promise((resolve) => setTimeout(() => resolve(slow.write(bytes.subarray(0, 256))), 30))
  );
  for (let i = 0; i < 100; i++) slowQueue.write(closeLine(i));
  await slowQueue.flush(100, 5_000); // over a second in all, never 100 ms without a write
  assertEquals(slow.lines().length, 100);
  const stalled = new Sink();
  stalled.held = true;
  const stalledQueue = new LogQueue(stalled.write);
  stalledQueue.write("never written");
  const started = performance.now();
  await stalledQueue.flush(100);
  const waited = performance.now() - started;
  assert(waited >= 90 && waited < 1_000, `a stalled reader held the flush ${waited} ms`);
  stalled.release();
});
