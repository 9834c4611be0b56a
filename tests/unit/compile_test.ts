/**
 * The release build uses the flags the tests run with. (Building needs Deno's download
 * host, which these machines cannot reach: the release workflow builds and then runs the
 * whole suite against the binary with TARPYT_BIN.)
 */
import { assertEquals } from "../support/assert.ts";
import { compileArgs, releaseTargets } from "../../src/build/compile.ts";
import { runtimeFlags } from "../../src/runtime/flags.ts";

Deno.test("each release binary is compiled with exactly the tarpyt task's flags, and no code cache", () => {
  for (const [target, triple] of Object.entries(releaseTargets)) {
    assertEquals(compileArgs(target as keyof typeof releaseTargets, "dist"), [
      "compile",
      "--no-code-cache",
      "--target",
      triple,
      ...runtimeFlags,
      "--output",
      `dist/tarpyt-${target}`,
      "main.ts",
    ]);
  }
  assertEquals(Object.keys(releaseTargets), ["x86_64-linux", "aarch64-linux"]);
});
