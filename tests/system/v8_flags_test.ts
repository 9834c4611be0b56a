/**
 * The units' V8 flags against the kernel's write-xor-execute rule, outside systemd:
 * `prctl(PR_SET_MDWE)` (Linux 6.3) refuses what `MemoryDenyWriteExecute=` refuses, a
 * mapping both writable and executable and any later gain of execute, and is kept across
 * `execve`. (systemd_boot_test.ts runs the units and the `--jit` drop-in under real
 * systemd.)
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { programEnv, type Ran, run } from "../support/process.ts";
import { tarpytArgv } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";
import { unitV8Flags } from "../../src/runtime/flags.ts";

/** Runs `argv` under PR_SET_MDWE with PR_MDWE_REFUSE_EXEC_GAIN, by way of python3. */
function underMdwe(argv: readonly string[], env: Record<string, string>): Promise<Ran> {
  const mdwe = "import ctypes, os, sys\n" +
    "if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:\n" +
    "    sys.exit('prctl(PR_SET_MDWE): errno %d; Linux 6.3 or later has it' % ctypes.get_errno())\n" +
    "os.execvp(sys.argv[1], sys.argv[1:])\n";
  return run(["python3", "-c", mdwe, ...argv], undefined, env);
}

Deno.test(needing(["python3"], {
  name: "V8 reads DENO_V8_FLAGS before the program's own flags, and with the units' flags " +
    "runs where writable code is refused; with its JIT it cannot start there",
  fn: async () => {
    const version = tarpytArgv(["--version"]);
    const sandboxed = await underMdwe(version, programEnv);
    assertEquals(sandboxed.code, 0, sandboxed.stderr);
    assertMatch(sandboxed.stdout, /^tarpyt /);

    const { DENO_V8_FLAGS: flags, ...withJit } = programEnv;
    assertEquals(flags, unitV8Flags);
    const jit = await underMdwe(version, withJit);
    assert(jit.code !== 0, `started with the JIT where writable code is refused: ${jit.stdout}`);
    assertMatch(jit.stderr, /Check failed/);

    // A flag of the command line comes after the environment's, so a --jitless built into
    // the binary could not be taken back by a drop-in: the units set it in the environment.
    const late = await underMdwe(
      [Deno.execPath(), "eval", "--v8-flags=--jitless", "console.log('ran')"],
      { ...withJit, DENO_V8_FLAGS: "--no-jitless" },
    );
    assertEquals(late.code, 0, late.stderr);
  },
}));
