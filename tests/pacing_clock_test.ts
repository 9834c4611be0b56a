import { assert, assertEquals } from "./assert.ts";
import { FakeClock } from "./fake_clock.ts";
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

Deno.test("jitter spreads delays over evenly spaced lanes around the delay", () => {
  assertEquals(laneDelays(10_000, 0), [10_000]);
  const lanes = laneDelays(10_000, 3_500);
  assertEquals(lanes.length, jitterLanes);
  assertEquals([lanes[0], lanes.at(-1)], [6_500, 13_500]);
  assert(lanes.every((d, i) => i === 0 || d > lanes[i - 1]));
});

Deno.test("every item is served once per delay, in the order it came", () => {
  const time = new FakeClock();
  const order: string[] = [];
  const clock = new PacingClock<Item>([100], 100, (it, now) => {
    it.served.push(now);
    order.push(it.name);
  }, time);
  const items = ["a", "b", "c"].map(item);
  for (const it of items) clock.add(it);
  time.advance(450);
  for (const it of items) assertEquals(it.served, [100, 200, 300, 400]);
  assertEquals(order.slice(0, 6), ["a", "b", "c", "a", "b", "c"]);
});

Deno.test("items due within the slack of the head are served in the same turn", () => {
  // The slack is a hundredth of the delay, at most 100 ms: items 50 ms apart share a
  // firing, items 200 ms apart do not.
  const time = new FakeClock();
  const clock = new PacingClock<Item>([10_000], 10_000, (it, now) => it.served.push(now), time);
  const [a, b, c] = ["a", "b", "c"].map(item);
  clock.add(a);
  time.advance(50);
  clock.add(b);
  time.advance(150);
  clock.add(c);
  time.advance(9_800);
  assertEquals([a.served, b.served, c.served], [[10_000], [10_000], []]);
  time.advance(200);
  assertEquals(c.served, [10_200]);
});

Deno.test("a new item's first turn comes after the first delay, the later ones a delay apart", () => {
  const time = new FakeClock();
  const clock = new PacingClock<Item>([150], 30, (it, now) => it.served.push(now), time);
  const early = item("early");
  clock.add(early);
  time.advance(100);
  const late = item("late"); // arrives while early waits in the delay lane
  clock.add(late);
  time.advance(400);
  assertEquals(early.served, [30, 180, 330, 480]);
  assertEquals(late.served, [130, 280, 430]);
});

Deno.test("a removed item is never served again, even when removed while being served", () => {
  const time = new FakeClock();
  const clock = new PacingClock<Item>([50], 50, (it) => {
    it.served.push(0);
    if (it.name === "once") clock.remove(it);
  }, time);
  const [kept, removed, once] = ["kept", "removed", "once"].map(item);
  for (const it of [kept, removed, once]) clock.add(it);
  clock.remove(removed);
  clock.remove(removed); // twice is harmless
  assertEquals(clock.size, 2);
  time.advance(280);
  assertEquals(removed.served.length, 0);
  assertEquals(once.served.length, 1);
  assertEquals(kept.served.length, 5);
  assertEquals(clock.size, 1);
});

Deno.test("with jitter, delays vary between the shortest and longest lane", () => {
  const time = new FakeClock();
  const gaps: number[] = [];
  const lanes = laneDelays(60, 40);
  const clock = new PacingClock<Item>(lanes, 60, (it, now) => {
    if (it.served.length) gaps.push(now - it.served.at(-1)!);
    it.served.push(now);
  }, time);
  for (let i = 0; i < 20; i++) clock.add(item(String(i)));
  time.advance(10_000);
  assert(gaps.length > 1_000, `${gaps.length} gaps`);
  // Served up to the slack (1 ms here) early or late, from the lane's own delay.
  assert(gaps.every((gap) => gap >= lanes[0] - 1 && gap <= lanes.at(-1)! + 1), `${gaps}`);
  const lanesUsed = new Set(
    gaps.map((gap) => lanes.findIndex((lane) => Math.abs(gap - lane) <= 1)),
  );
  assertEquals(lanesUsed.size, jitterLanes, "every lane is used");
});

Deno.test("a stopped clock serves nothing, even items added after", () => {
  const time = new FakeClock();
  const clock = new PacingClock<Item>([20], 20, (it) => it.served.push(0), time);
  const before = item("before");
  clock.add(before);
  clock.stop();
  const after = item("after");
  clock.add(after);
  time.advance(100);
  assertEquals([before.served.length, after.served.length], [0, 0]);
});
