/**
 * The permission and V8 flags TarPyt runs with, read from the `tarpyt` task in `deno.json`
 * so that `deno run` (tests, `deno task start`) and `deno compile` (the release binary)
 * cannot drift apart: this task is the only place they are written.
 *
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };

/** The version in `deno.json`. */
export const version: string = denoConfig.version;

/**
 * The Deno TarPyt is tested on and compiled with, `denoVersion` in `deno.json`: the one
 * place it is written (tests/system/docs_test.ts checks that CI and the README use it). The
 * runtime internals in this folder (see transport.ts) were verified on it.
 */
export const denoVersion: string = denoConfig.denoVersion;

/**
 * The flags between `deno run` and `main.ts` in the `tarpyt` task.
 *
 * @example
 * ```ts
 * import { runtimeFlags } from "./flags.ts";
 * console.log(["run", ...runtimeFlags, "main.ts"].join(" "));
 * ```
 */
export const runtimeFlags: readonly string[] = flagsOfRunTask(denoConfig.tasks.tarpyt.command);

function flagsOfRunTask(command: string): string[] {
  const words = command.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new Error(`deno.json: the tarpyt task must read "deno run <flags> main.ts"`);
  }
  return words.slice(2, -1);
}
