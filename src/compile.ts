/**
 * `deno task compile`: builds `dist/tarpyt` with {@link runtimeFlags}, the same flags the
 * tests run with. `deno compile` downloads its runtime (`denort`) from Deno's own host; where
 * that host is unreachable this says so in one line instead of a page of errors.
 *
 * @module
 */
import { runtimeFlags } from "./runtime_flags.ts";

const output = Deno.args[0] ?? "dist/tarpyt";
const compile = new Deno.Command(Deno.execPath(), {
  // No code cache: the binary would write one to disk on first run, and it may write nothing.
  args: ["compile", "--no-code-cache", ...runtimeFlags, "--output", output, "main.ts"],
  stdout: "inherit",
  stderr: "piped",
});
const { code, stderr } = await compile.output();
const message = new TextDecoder().decode(stderr);
if (code === 0) {
  console.log(`built ${output} with: ${runtimeFlags.join(" ")}`);
} else if (/denort|download|dl\.deno\.land|error sending request/i.test(message)) {
  console.error(
    "tarpyt compile: deno compile could not download its runtime (denort) from Deno's host; " +
      "build release binaries where that host is reachable (the release workflow)",
  );
  Deno.exit(1);
} else {
  console.error(message.trimEnd());
  Deno.exit(code);
}
