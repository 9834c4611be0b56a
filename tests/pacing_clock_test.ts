import { assert, assertEquals } from "./assert.ts";
import {
  jitterLanes,
  laneDelays,
  type Paced,
  PacingClock,
  unscheduled,
} from "../src/pacing_clock.ts";

interface Item extends Paced {
  readonly name: string;
  served: number[];
}

const item = (name: string): Item => ({ ...unscheduled, name, served: [] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("jitter spreads delays over evenly spaced lanes around the delay", () => {
  assertEquals(laneDelays(10_000, 0), [10_000]);
  const lanes = laneDelays(10_000, 3_500);
  assertEquals(lanes.length, jitterLanes);
  assertEquals([lanes[0], lanes.at(-1)], [6_500, 13_500]);
  assert(lanes.every((d, i) => i === 0 || d > lanes[i - 1]));
});

Deno.test("every item is served once per delay, in the order it came", async () => {
  const order: string[] = [];
  const clock = new PacingClock<Item>([100], 100, (it, now) => {
    it.served.push(now);
    order.push(it.name);
  });
  const items = ["a", "b", "c"].map(item);
  for (const it of items) clock.add(it);
  await sleep(560);
  clock.stop();
  for (const it of items) {
    assert(it.served.length >= 4 && it.served.length <= 5, `${it.name}: ${it.served.length}`);
    for (let i = 1; i < it.served.length; i++) {
      const gap = it.served[i] - it.served[i - 1];
      assert(gap >= 99 && gap < 150, `${it.name} gap ${gap}`);
    }
  }
  assertEquals(order.slice(0, 6), ["a", "b", "c", "a", "b", "c"]);
});

Deno.test("a new item's first turn comes after the first delay, the later ones a delay apart", async () => {
  const clock = new PacingClock<Item>([150], 30, (it, now) => it.served.push(now));
  const early = item("early");
  const addedAt = performance.now();
  clock.add(early);
  await sleep(100);
  const late = item("late"); // arrives while early waits in the delay lane
  const lateAddedAt = performance.now();
  clock.add(late);
  await sleep(400);
  clock.stop();
  const since = (it: Item, t0: number) => it.served.map((t) => Math.round(t - t0));
  for (const [it, t0] of [[early, addedAt], [late, lateAddedAt]] as const) {
    const [first, second, third] = since(it, t0);
    assert(first >= 29 && first < 70, `${it.name}: first turn after ${first} ms`);
    assert(second - first >= 149 && second - first < 200, `${it.name}: ${since(it, t0)}`);
    assert(third - second >= 149 && third - second < 200, `${it.name}: ${since(it, t0)}`);
  }
});

Deno.test("a removed item is never served again, even when removed while being served", async () => {
  const clock = new PacingClock<Item>([50], 50, (it) => {
    it.served.push(0);
    if (it.name === "once") clock.remove(it);
  });
  const [kept, removed, once] = ["kept", "removed", "once"].map(item);
  for (const it of [kept, removed, once]) clock.add(it);
  clock.remove(removed);
  clock.remove(removed); // twice is harmless
  assertEquals(clock.size, 2);
  await sleep(280);
  clock.stop();
  assertEquals(removed.served.length, 0);
  assertEquals(once.served.length, 1);
  assert(kept.served.length >= 4, `kept served ${kept.served.length} times`);
  assertEquals(clock.size, 1);
});

Deno.test("with jitter, delays vary between the shortest and longest lane", async () => {
  const gaps: number[] = [];
  const clock = new PacingClock<Item>(laneDelays(60, 40), 60, (it, now) => {
    if (it.served.length) gaps.push(now - it.served.at(-1)!);
    it.served.push(now);
  });
  const items = Array.from({ length: 20 }, (_, i) => item(String(i)));
  for (const it of items) clock.add(it);
  await sleep(700);
  clock.stop();
  assert(gaps.length > 50, `${gaps.length} gaps`);
  assert(
    Math.min(...gaps) >= 19 && Math.max(...gaps) < 140,
    `${Math.min(...gaps)}..${Math.max(...gaps)}`,
  );
  assert(new Set(gaps.map((g) => Math.round(g / 10))).size >= 4, "delays should vary");
});

Deno.test("a stopped clock serves nothing, even items added after", async () => {
  const clock = new PacingClock<Item>([20], 20, (it) => it.served.push(0));
  const before = item("before");
  clock.add(before);
  clock.stop();
  const after = item("after");
  clock.add(after);
  await sleep(100);
  assertEquals([before.served.length, after.served.length], [0, 0]);
});
