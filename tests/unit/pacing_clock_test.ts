import { assert, assertEquals } from "../support/assert.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { gridFor, jitterLanes, laneDelays, PacingClock } from "../../src/engine/pacing_clock.ts";

/** What a test paces: the clock sees only its number. */
interface Item {
  readonly number: number;
  readonly name: string;
  served: number[];
  /** Not to be scheduled again once served. */
  last?: boolean;
}

/** More items than the tests make. */
const itemCapacity = 1 << 16;

/** Every item made, by its number. */
const items: Item[] = [];

const item = (name: string): Item => {
  const it = { number: items.length, name, served: [] };
  items.push(it);
  return it;
};

/** A clock that paces {@link Item}s, through their numbers. */
class ItemClock {
  readonly clock: PacingClock;

  constructor(
    groups: readonly (readonly number[])[],
    tickMs: number,
    onDue: (it: Item, now: number, group: number) => void,
    time: FakeClock,
  ) {
    this.clock = new PacingClock(
      groups,
      tickMs,
      (n, now, group) => onDue(items[n], now, group),
      time,
      itemCapacity,
    );
  }

  schedule(it: Item, group: number): void {
    this.clock.schedule(it.number, group);
  }

  remove(it: Item): void {
    this.clock.remove(it.number);
  }

  get size(): number {
    return this.clock.size;
  }

  stop(): void {
    this.clock.stop();
  }
}

/**
 * A clock of two groups, a first wait and then ticks, that serves an item with `onServe`
 * and schedules it for its next tick unless it is its last.
 */
function ticking(
  firstMs: readonly number[],
  tickMs: readonly number[],
  time: FakeClock,
  onServe: (it: Item, now: number) => void = (it, now) => it.served.push(now),
): ItemClock {
  const clock: ItemClock = new ItemClock(
    [firstMs, tickMs],
    Math.min(...tickMs),
    (it, now) => {
      onServe(it, now);
      if (!it.last) clock.schedule(it, 1);
    },
    time,
  );
  return clock;
}

Deno.test("jitter spreads delays over evenly spaced lanes around the delay", () => {
  assertEquals(laneDelays(10_000, 0), [10_000]);
  const lanes = laneDelays(10_000, 3_500);
  assertEquals(lanes.length, jitterLanes);
  assertEquals([lanes[0], lanes.at(-1)], [6_500, 13_500]);
  assert(lanes.every((d, i) => i === 0 || d > lanes[i - 1]));
});

Deno.test("every item is served once per delay, in the order it came", async () => {
  const time = new FakeClock();
  const order: string[] = [];
  const clock = ticking([100], [100], time, (it, now) => {
    it.served.push(now);
    order.push(it.name);
  });
  const items = ["a", "b", "c"].map(item);
  for (const it of items) clock.schedule(it, 0);
  await time.advance(450);
  for (const it of items) assertEquals(it.served, [100, 200, 300, 400]);
  assertEquals(order.slice(0, 6), ["a", "b", "c", "a", "b", "c"]);
});

Deno.test("items due within the slack of the head are served in the same turn", async () => {
  // The slack is a twentieth of the tick, at most 500 ms: items 400 ms apart share a
  // firing, items 1.1 s apart do not.
  const time = new FakeClock();
  const clock = ticking([10_000], [10_000], time);
  const [a, b, c] = ["a", "b", "c"].map(item);
  clock.schedule(a, 0);
  await time.advance(400);
  clock.schedule(b, 0);
  await time.advance(700);
  clock.schedule(c, 0);
  await time.advance(8_900);
  assertEquals([a.served, b.served, c.served], [[10_000], [10_000], []]);
  await time.advance(1_100);
  assertEquals(c.served, [11_100]);
});

Deno.test("an item is served after its first wait, then a tick apart, whenever it came", async () => {
  const time = new FakeClock();
  const clock = ticking([30], [150], time);
  const early = item("early");
  clock.schedule(early, 0);
  await time.advance(100);
  const late = item("late"); // comes while early waits for its next tick
  clock.schedule(late, 0);
  await time.advance(400);
  assertEquals(early.served, [30, 180, 330, 480]);
  assertEquals(late.served, [130, 280, 430]);
});

Deno.test("an item served from one group can be moved to another", async () => {
  const time = new FakeClock();
  const served: string[] = [];
  const clock: ItemClock = new ItemClock(
    [[10], [100], [1_000]],
    100,
    (it, now, group) => {
      served.push(`${group}@${now}`);
      if (group < 2) clock.schedule(it, group + 1);
    },
    time,
  );
  clock.schedule(item("a"), 0);
  await time.advance(5_000);
  assertEquals(served, ["0@10", "1@110", "2@1110"]);
  assertEquals(clock.size, 0);
});

Deno.test("a removed item is never served again, nor one not scheduled after its turn", async () => {
  const time = new FakeClock();
  const clock = ticking([50], [50], time, (it) => {
    it.served.push(0);
    it.last = it.name === "once";
  });
  const [kept, removed, once] = ["kept", "removed", "once"].map(item);
  for (const it of [kept, removed, once]) clock.schedule(it, 0);
  clock.remove(removed);
  clock.remove(removed); // twice is harmless
  assertEquals(clock.size, 2);
  await time.advance(280);
  assertEquals(removed.served.length, 0);
  assertEquals(once.served.length, 1);
  assertEquals(kept.served.length, 5);
  assertEquals(clock.size, 1);
});

Deno.test("with jitter, turns fall on a grid between the shortest and longest lane", async () => {
  const time = new FakeClock();
  const gaps: number[] = [];
  const lanes = laneDelays(60, 40);
  const grid = gridFor(lanes.at(-1)! - lanes[0]);
  const offGrid: number[] = [];
  const clock = ticking([60], lanes, time, (it, now) => {
    if (it.served.length) gaps.push(now - it.served.at(-1)!);
    if (it.served.length && now % grid !== 0) offGrid.push(now);
    it.served.push(now);
  });
  for (let i = 0; i < 20; i++) clock.schedule(item(String(i)), 0);
  await time.advance(10_000);
  assert(gaps.length > 1_000, `${gaps.length} gaps`);
  assert(offGrid.length === 0, `${offGrid.length} turns off the ${grid} ms grid: ${offGrid[0]}`);
  // A turn is served up to the slack (1 ms here) early, or, when a turn counted from
  // when it was due lands behind a later one in its lane, a few ms late.
  assert(gaps.every((gap) => gap >= lanes[0] - 4 && gap <= lanes.at(-1)! + 4), `${gaps}`);
  const delays = new Set(gaps.map((gap) => Math.round(gap / grid)));
  assert(delays.size >= 3, `only the delays ${[...delays]} grid steps`);
  const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
  assert(Math.abs(mean - 60) < 6, `mean delay ${mean}, not near 60`);
});

/**
 * The wakeups of 16 items paced `delayMs ± jitterMs` (the first after `firstMs`), come
 * `arrivalMs` apart, over `ms` from when the last came, less the first `settleMs`.
 */
async function wakeupsOf16(
  firstMs: number,
  delayMs: number,
  jitterMs: number,
  arrivalMs: number,
  ms: number,
  settleMs: number,
): Promise<number> {
  const time = new FakeClock();
  const wakeups = new Set<number>();
  const clock = ticking(
    [firstMs],
    laneDelays(delayMs, jitterMs),
    time,
    (_, now) => wakeups.add(now),
  );
  for (let i = 0; i < 16; i++) {
    clock.schedule(item(String(i)), 0);
    await time.advance(arrivalMs); // they come at different times
  }
  const start = time.now();
  await time.advance(ms);
  return [...wakeups].filter((at) => at > start + settleMs).length;
}

Deno.test("items paced seconds apart share wakeups: at most one a second", async () => {
  const later = await wakeupsOf16(1_000, 2_000, 1_000, 37, 60_000, 2_000);
  assert(later <= 60, `${later} wakeups in a minute for 16 items`);
});

Deno.test("items paced a quarter-minute apart wake together every few seconds, not each second", async () => {
  // Whole lines every 16 s ± 4, as the slow profile sends them.
  const later = await wakeupsOf16(10_000, 16_000, 4_000, 613, 600_000, 20_000);
  assert(later <= 580 / 4 + 1, `${later} wakeups in 580 s for 16 items`);
});

Deno.test("the timer is armed once per firing, however many items it serves", async () => {
  const time = new FakeClock();
  let arms = 0;
  const arm = time.arm.bind(time);
  time.arm = (fire: () => void, ms: number): void => {
    arms++;
    arm(fire, ms);
  };
  const clock = ticking([100], [100], time);
  for (let i = 0; i < 1_000; i++) clock.schedule(item(String(i)), 0);
  const before = arms;
  await time.advance(1_000);
  assertEquals(arms - before, 10);
});

Deno.test("a stopped clock serves nothing, even items scheduled after", async () => {
  const time = new FakeClock();
  const clock = ticking([20], [20], time, (it) => it.served.push(0));
  const before = item("before");
  clock.schedule(before, 0);
  clock.stop();
  const after = item("after");
  clock.schedule(after, 0);
  await time.advance(100);
  assertEquals([before.served.length, after.served.length], [0, 0]);
});

Deno.test("a timer that fires late delays one turn, not every turn after it", async () => {
  // Every firing comes 5 ms late, as when the turn before took long: each turn still
  // counts from when it was due.
  const time = new FakeClock();
  const arm = time.arm.bind(time);
  time.arm = (fire: () => void, ms: number): void => arm(fire, ms + 5);
  const it = item("late");
  ticking([1_000], [1_000], time).schedule(it, 0);
  await time.advance(100_500);
  assertEquals(it.served.length, 100);
  assert(it.served.every((at, i) => at === (i + 1) * 1_000 + 5), `${it.served.slice(0, 5)}`);
});

Deno.test("after a stall, turns resume a quarter tick before now: no burst of catching up", async () => {
  const time = new FakeClock();
  const arm = time.arm.bind(time);
  let stallOnce = true;
  time.arm = (fire: () => void, ms: number): void => {
    arm(fire, stallOnce && ms > 0 ? ms + 5_000 : ms);
    stallOnce = false;
  };
  const it = item("stalled");
  ticking([1_000], [1_000], time).schedule(it, 0);
  await time.advance(9_000);
  // Due at 1 s, served at 6 s; then every second from 5.75 s (a quarter tick before).
  assertEquals(it.served, [6_000, 6_750, 7_750, 8_750]);
});
