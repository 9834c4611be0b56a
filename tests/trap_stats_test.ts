import { assert, assertEquals } from "./assert.ts";
import { TopTalkers, TrappedHistogram } from "../src/trap_stats.ts";

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

Deno.test("the trapped-time histogram files each client under the first bound it fits", () => {
  const histogram = new TrappedHistogram();
  for (const seconds of [0.5, 10, 10.1, 3_600, 100_000]) histogram.observe(seconds);
  assertEquals(histogram.counts, [2, 1, 0, 0, 1, 0, 0, 1]);
  assertEquals([histogram.count, histogram.sumSeconds], [5, 103_620.6]);
});
