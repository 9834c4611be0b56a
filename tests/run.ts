/**
 * `deno task test`'s runner: runs every test in parallel, then ends with what was ignored
 * for want of a program or of root, and the one `apt-get install` line that would run it
 * all (see tests/support/tools.ts). Under CI (`TARPYT_CI=1`) it refuses to start when anything is
 * missing, so that CI always runs every test. Arguments are passed to `deno test`.
 *
 * @module
 */
import {
  debianPackages,
  describeUnmet,
  ignoredMark,
  strict,
  type Tool,
  unmet,
} from "./support/tools.ts";

const root = new URL("..", import.meta.url).pathname;
const missing = unmet(["root", ...Object.keys(debianPackages) as Tool[]]);

if (strict && missing.length > 0) {
  console.error(`tests: TARPYT_CI=1 but this machine lacks ${describeUnmet(missing)}`);
  Deno.exit(1);
}

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "test",
    "--parallel",
    "--allow-run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    ...(Deno.args.length ? Deno.args : [`${root}tests/`]),
  ],
  // Most tests wait on real clients and timers, not on the CPU: run more files at once
  // than there are cores.
  env: { DENO_JOBS: Deno.env.get("DENO_JOBS") ?? "8" },
  stdout: "piped",
  stderr: "inherit",
}).spawn();

const ignored: string[] = [];
const decoder = new TextDecoder();
let rest = "";
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
  rest = lines.pop() ?? "";
  for (const line of lines) if (line.includes(ignoredMark)) ignored.push(line.trim());
}
const { code } = await child.status;

if (ignored.length > 0) {
  console.log(`\n${ignored.length} tests ignored because this machine lacks something:`);
  for (const line of ignored) console.log(`  ${line}`);
  const packages = [
    ...new Set(missing.flatMap((need) => need === "root" ? [] : [debianPackages[need]])),
  ];
  if (packages.length) console.log(`To run them: sudo apt-get install -y ${packages.join(" ")}`);
  if (missing.includes("root")) console.log("Some need root: run the tests as root to run them.");
}
Deno.exit(code);
