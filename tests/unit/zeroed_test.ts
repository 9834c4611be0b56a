import { assert } from "../support/assert.ts";

const mib = 1024 * 1024;

/**
 * The resident memory `code` adds at each of its `mark()`s, in a process of its own: a
 * test's measure of RSS must not move with what tests running beside it allocate and free.
 * `code` may use `zeroed`, `ClientTable` and `PacingClock`.
 */
async function residentGrowth(code: string): Promise<number[]> {
  const module = (path: string) => new URL(`../../src/${path}`, import.meta.url).href;
  const script = `
    import { zeroed } from "${module("runtime/zeroed.ts")}";
    import { ClientTable } from "${module("engine/client_table.ts")}";
    import { PacingClock } from "${module("engine/pacing_clock.ts")}";
    const before = Deno.memoryUsage().rss;
    const marks = [];
    const mark = () => marks.push(Deno.memoryUsage().rss - before);
    ${code}
    console.log(JSON.stringify(marks));
  `;
  const { stdout, stderr, success } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
  }).output();
  assert(success, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test("a zeroed array costs resident memory only for the pages written", async () => {
  const [idle, written] = await residentGrowth(`
    const numbers = zeroed(Float64Array, 32 * 1024 * 1024); // 256 MiB, were it all resident
    mark();
    for (let i = 0; i < 8 * 1024 * 1024; i += 512) numbers[i] = 1; // 64 MiB of it
    mark();
  `);
  assert(idle < 8 * mib, `an untouched array made ${idle} bytes resident`);
  // What is written is resident, as any memory: the test above can fail.
  assert(written > 48 * mib, `writing 64 MiB made only ${written} bytes resident`);
});

Deno.test("a tarpit's tables for the most clients it may hold cost next to nothing while it holds none", async () => {
  const [idle, used] = await residentGrowth(`
    const table = new ClientTable(1_000_000);
    const clock = new PacingClock([[1_000]], 1_000, () => {}, undefined, 1_000_000);
    mark();
    for (let i = 0; i < 1_000; i++) {
      clock.schedule(table.take(i, "192.0.2.1", 1, "192.0.2.1", i, 22, 0), 0, 0);
    }
    mark();
    clock.stop();
  `);
  assert(idle < 4 * mib, `empty tables made ${idle} bytes resident`);
  assert(used < 16 * mib, `a thousand clients made ${used} bytes resident`);
});
