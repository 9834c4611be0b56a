/**
 * `deno task compile`: builds `dist/tarpyt-x86_64-linux` and `dist/tarpyt-aarch64-linux` with
 * {@link runtimeFlags}, the same flags the tests run with, and writes `dist/SHA256SUMS`.
 * `deno compile` downloads its runtime (`denort`) from Deno's own host; where that host is
 * unreachable this says so in one line instead of a page of errors.
 *
 * @module
 */
import { runtimeFlags } from "../runtime/flags.ts";

/** The release targets: the file name suffix, and Deno's target triple. */
export const releaseTargets = {
  "x86_64-linux": "x86_64-unknown-linux-gnu",
  "aarch64-linux": "aarch64-unknown-linux-gnu",
} as const;

/** A release target's name, such as `x86_64-linux`. */
export type ReleaseTarget = keyof typeof releaseTargets;

/**
 * The `deno` arguments that build one release binary.
 *
 * @example
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * compileArgs("x86_64-linux", "dist");
 * // ["compile", "--no-code-cache", "--target", "x86_64-unknown-linux-gnu", ...flags,
 * //  "--output", "dist/tarpyt-x86_64-linux", "main.ts"]
 * ```
 */
export function compileArgs(target: ReleaseTarget, dir: string): string[] {
  return [
    "compile",
    // No code cache: the binary would write one to disk on first run, and it may write nothing.
    "--no-code-cache",
    "--target",
    releaseTargets[target],
    ...runtimeFlags,
    "--output",
    `${dir}/tarpyt-${target}`,
    "main.ts",
  ];
}

async function sha256Hex(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function main(dir: string): Promise<void> {
  const sums: string[] = [];
  for (const target of Object.keys(releaseTargets) as ReleaseTarget[]) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(target, dir),
      stdout: "inherit",
      stderr: "piped",
    }).output();
    const message = new TextDecoder().decode(stderr);
    if (code !== 0) {
      if (/denort|download|dl\.deno\.land|error sending request/i.test(message)) {
        console.error(
          "tarpyt compile: deno compile could not download its runtime (denort) from Deno's " +
            "host; build release binaries where it is reachable: .github/workflows/release.yml",
        );
        Deno.exit(1);
      }
      console.error(message.trimEnd());
      Deno.exit(code);
    }
    sums.push(`${await sha256Hex(`${dir}/tarpyt-${target}`)}  tarpyt-${target}`);
    console.log(`built ${dir}/tarpyt-${target} with: ${runtimeFlags.join(" ")}`);
  }
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, sums.join("\n") + "\n");
  console.log(`wrote ${dir}/SHA256SUMS`);
}

if (import.meta.main) await main(Deno.args[0] ?? "dist");
