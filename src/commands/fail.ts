/**
 * How a command ends in failure: one line, `tarpyt: ...`, its control characters escaped,
 * and an exit status that says what kind of failure it was (the README lists them).
 *
 * @module
 */
import { escapeControl } from "../text/escape.ts";

/** Bad usage: a flag, a value, a variable, or no socket to serve. */
export const exitUsage = 2;

/** A socket that cannot be used. */
export const exitNoSocket = 1;

/** A bug in TarPyt (sysexits.h's EX_SOFTWARE): please report it. */
export const exitInternal = 70;

/**
 * Prints one line, `tarpyt: ...`, and exits: bad input never shows a stack trace, and
 * its control characters are escaped, so it is one line.
 *
 * @example
 * ```ts ignore
 * fail("--delay: \"10\" is not a duration", exitUsage);
 * ```
 */
export function fail(message: string, code: number): never {
  console.error(`tarpyt: ${escapeControl(message)}`);
  Deno.exit(code);
}

/**
 * Writes all of `bytes` to stdout.
 *
 * @example
 * ```ts ignore
 * await writeStdout(new TextEncoder().encode("hello\n"));
 * ```
 */
export async function writeStdout(bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}
