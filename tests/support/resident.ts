/**
 * Resident memory measured in a process of its own: a test's measure of RSS must not move
 * with what tests running beside it, in the same process, allocate and free.
 *
 * @module
 */
import { assert } from "./assert.ts";

/**
 * The resident memory `code` adds at each of its `mark()` calls, run in a child process
 * with `flags` (such as `--v8-flags=...`) that first imports `imports` (an exported name
 * and the module under `src/` it comes from, as `["zeroed", "runtime/zeroed.ts"]`).
 */
export async function residentGrowth(
  imports: readonly (readonly [string, string])[],
  code: string,
  flags: readonly string[] = [],
): Promise<number[]> {
  const lines = imports.map(([name, path]) =>
    `import { ${name} } from "${new URL(`../../src/${path}`, import.meta.url).href}";`
  );
  const script = `
    ${lines.join("\n")}
    const before = Deno.memoryUsage().rss;
    const marks = [];
    const mark = () => marks.push(Deno.memoryUsage().rss - before);
    ${code}
    console.log(JSON.stringify(marks));
  `;
  const { stdout, stderr, success } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", ...flags, script],
  }).output();
  assert(success, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}
