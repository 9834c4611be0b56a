import { assert } from "../support/assert.ts";
import { zeroed } from "../../src/runtime/zeroed.ts";
import { ClientTable } from "../../src/engine/client_table.ts";
import { PacingClock } from "../../src/engine/pacing_clock.ts";

const mib = 1024 * 1024;

Deno.test("a zeroed array costs resident memory only for the pages written", () => {
  const before = Deno.memoryUsage().rss;
  const numbers = zeroed(Float64Array, 32 * mib); // 256 MiB, were it all resident
  const idle = Deno.memoryUsage().rss - before;
  assert(idle < 8 * mib, `an untouched array made ${idle} bytes resident`);
  // What is written is resident, as any memory: the test above can fail.
  for (let i = 0; i < 8 * mib; i += 512) numbers[i] = 1;
  const written = Deno.memoryUsage().rss - before;
  assert(written > 48 * mib, `writing 64 MiB made only ${written} bytes resident`);
});

Deno.test("a tarpit's tables for the most clients it may hold cost next to nothing while it holds none", () => {
  const before = Deno.memoryUsage().rss;
  const table = new ClientTable<number>(1_000_000);
  const clock = new PacingClock([[1_000]], 1_000, () => {}, undefined, 1_000_000);
  const idle = Deno.memoryUsage().rss - before;
  assert(idle < 4 * mib, `empty tables made ${idle} bytes resident`);
  for (let i = 0; i < 1_000; i++) {
    clock.schedule(table.take(i, "192.0.2.1", 1, "192.0.2.1", i, 22, 0), 0, 0);
  }
  const used = Deno.memoryUsage().rss - before;
  assert(used < 16 * mib, `a thousand clients made ${used} bytes resident`);
  clock.stop();
});
