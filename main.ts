/**
 * TarPyt: a network tarpit. Holds attackers' connections open by sending legal, useless
 * bytes of their protocol one at a time, never finishing anything they wait for.
 *
 * This file only dispatches: `tarpyt [options]` runs the tarpit (src/commands/run.ts),
 * `tarpyt systemd print` writes the unit templates, `tarpyt report` sums up a log.
 * Exit statuses are in src/commands/fail.ts and the README.
 *
 * @module
 */
import { helpText, parseCommandLine, UsageError } from "./src/cli/cli.ts";
import { exitInternal, exitUsage, fail } from "./src/commands/fail.ts";
import { report } from "./src/commands/report.ts";
import { run } from "./src/commands/run.ts";
import { systemdPrint } from "./src/commands/systemd_print.ts";
import { runtimeFlags, version } from "./src/runtime/flags.ts";

async function main(): Promise<void> {
  let command;
  try {
    command = parseCommandLine(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, exitUsage);
    throw error;
  }
  switch (command.kind) {
    case "help":
      return console.log(helpText());
    case "version":
      return console.log(
        `tarpyt ${version}\ndeno ${Deno.version.deno} (v8 ${Deno.version.v8}, ` +
          `${Deno.build.target}${Deno.build.standalone ? ", compiled" : ""})\n` +
          `flags ${runtimeFlags.join(" ")}`,
      );
    case "systemd-print":
      return await systemdPrint(command);
    case "report":
      return await report(command.svg);
    case "run":
      return await run(command.config);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    // A bug, not bad input: still one line, with what is known.
    const why = error instanceof Error ? error.message : String(error);
    fail(`internal error: ${why}`, exitInternal);
  }
}
