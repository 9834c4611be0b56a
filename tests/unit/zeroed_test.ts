import { assert } from "../support/assert.ts";
import { residentGrowth } from "../support/resident.ts";

const mib = 1024 * 1024;

Deno.test("a zeroed array costs resident memory only for the pages written", async () => {
  const [idle, written] = await residentGrowth(
    [["zeroed", "runtime/zeroed.ts"]],
    `
    const numbers = zeroed(Float64Array, 32 * 1024 * 1024); // 256 MiB, were it all resident
    mark();
    for (let i = 0; i < 8 * 1024 * 1024; i += 512) numbers[i] = 1; // 64 MiB of it
    mark();
  `,
  );
  assert(idle < 8 * mib, `an untouched array made ${idle} bytes resident`);
  // What is written is resident, as any memory: the test above can fail.
  assert(written > 48 * mib, `writing 64 MiB made only ${written} bytes resident`);
});

Deno.test("a tarpit's tables for the most clients it may hold cost next to nothing while it holds none", async () => {
  const [idle, used] = await residentGrowth(
    [
      ["ClientTable", "engine/client_table.ts"],
      ["PacingClock", "engine/pacing_clock.ts"],
    ],
    `
    const table = new ClientTable(1_000_000);
    const clock = new PacingClock([[1_000]], 1_000, () => {}, undefined, 1_000_000);
    mark();
    for (let i = 0; i < 1_000; i++) {
      clock.schedule(table.take(i, "192.0.2.1", 1, "192.0.2.1", i, 22, 0), 0, 0);
    }
    mark();
    clock.stop();
  `,
  );
  assert(idle < 4 * mib, `empty tables made ${idle} bytes resident`);
  assert(used < 16 * mib, `a thousand clients made ${used} bytes resident`);
});
