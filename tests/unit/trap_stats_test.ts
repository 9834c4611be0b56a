import { assert, assertEquals } from "../support/assert.ts";
import { departure } from "../support/memory_transport.ts";
import { TopTalkers, TrappedHistogram, TrapStats } from "../../src/stats/trap_stats.ts";

Deno.test("the busiest sources survive a flood of one-time addresses in bounded memory", () => {
  const talkers = new TopTalkers(100);
  for (let i = 0; i < 50_000; i++) {
    talkers.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (i % 100 === 0) talkers.add("203.0.113.7");
    if (i % 1000 === 0) talkers.add("198.51.100.2");
  }
  const top = talkers.top(1_000);
  assert(top.length <= 200, `${top.length} addresses kept`);
  assertEquals(top.slice(0, 2), [["203.0.113.7", 500], ["198.51.100.2", 50]]);
});

Deno.test("a full table of sources keeps the most counted, and of equals the first counted", () => {
  const talkers = new TopTalkers(4);
  for (const [address, times] of [["a", 1], ["b", 3], ["c", 2], ["d", 2], ["e", 2], ["f", 2]]) {
    for (let i = 0; i < Number(times); i++) talkers.add(String(address));
  }
  // Eight addresses fill twice four: the trim keeps b, then the first three of the four counted twice.
  talkers.add("g");
  talkers.add("h");
  assertEquals(talkers.top(10), [["b", 3], ["c", 2], ["d", 2], ["e", 2]]);
});

Deno.test("the trapped-time histogram files each client under the first bound it fits", () => {
  const histogram = new TrappedHistogram();
  for (const seconds of [0.5, 10, 10.1, 3_600, 100_000]) histogram.observe(seconds);
  assertEquals(histogram.counts, [2, 1, 0, 0, 1, 0, 0, 1]);
  assertEquals([histogram.count, histogram.sumSeconds], [5, 103_620.6]);
});

Deno.test("a port's figures add the clients that left (from events) to those held (from the engine)", () => {
  const stats = new TrapStats();
  const client = (id: number, localPort: number) => ({
    host: `192.0.2.${id}`,
    port: 40_000 + id,
    id,
    localPort,
    source: `192.0.2.${id}`,
  });
  stats.record({ type: "serve", localPort: 22 });
  stats.record({ type: "serve", localPort: 2222 });
  stats.record({ type: "accept", client: client(1, 22), held: 1, max: 9 });
  stats.record({ type: "accept", client: client(2, 22), held: 2, max: 9 });
  stats.record({ type: "refuse", host: "192.0.2.1", port: 1, localPort: 22, fromHost: 1 });
  stats.record({
    type: "close",
    client: client(1, 22),
    departure: departure(20_000, { bytes: 30 }),
    family: "unknown",
  });
  const held = new Map([[22, { held: 1, bytes: 5, trappedMs: 7_000 }]]);
  assertEquals(stats.ports(held), [
    { localPort: 22, opened: 2, closed: 1, refused: 1, held: 1, bytes: 35, trappedMs: 27_000 },
    { localPort: 2222, opened: 0, closed: 0, refused: 0, held: 0, bytes: 0, trappedMs: 0 },
  ]);
  assertEquals(stats.totals(held), {
    connects: 2,
    clientsNow: 1,
    bytesSent: 35,
    trappedMs: 27_000,
  });
  assertEquals([stats.histogram.count, stats.histogram.counts[1]], [1, 1]);
  assertEquals(stats.talkers.top(5), [["192.0.2.1", 1], ["192.0.2.2", 1]]);
});
