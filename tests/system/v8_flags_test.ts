/**
 * TarPyt's V8 flags against the kernel's write-xor-execute rule, outside systemd:
 * `prctl(PR_SET_MDWE)` (Linux 6.3) refuses what `MemoryDenyWriteExecute=` refuses, a
 * mapping both writable and executable and any later gain of execute, and is kept across
 * `execve`. (systemd_boot_test.ts shows the same under the units.)
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { programEnv, type Ran, run } from "../support/process.ts";
import { tarpytArgv, withJit } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";
import { runtimeFlags } from "../../src/runtime/flags.ts";

const root = new URL("../..", import.meta.url).pathname;

/** Runs `argv` under PR_SET_MDWE with PR_MDWE_REFUSE_EXEC_GAIN, by way of python3. */
function underMdwe(argv: readonly string[]): Promise<Ran> {
  const mdwe = "import ctypes, os, sys\n" +
    "if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:\n" +
    "    sys.exit('prctl(PR_SET_MDWE): errno %d; Linux 6.3 or later has it' % ctypes.get_errno())\n" +
    "os.execvp(sys.argv[1], sys.argv[1:])\n";
  return run(["python3", "-c", mdwe, ...argv], undefined, programEnv);
}

Deno.test(needing(["python3"], {
  name: "TarPyt's flags run V8 where writable code is refused; without --jitless it cannot start",
  fn: async () => {
    const sandboxed = await underMdwe(tarpytArgv(["--version"]));
    assertEquals(sandboxed.code, 0, sandboxed.stderr);
    assertMatch(sandboxed.stdout, /^tarpyt /);

    const jitFlags = runtimeFlags.map(withJit);
    assert(jitFlags.join(" ") !== runtimeFlags.join(" "), "no --jitless to take out");
    const jit = await underMdwe([Deno.execPath(), "run", ...jitFlags, `${root}main.ts`, "-V"]);
    assert(jit.code !== 0, `started with the JIT where writable code is refused: ${jit.stdout}`);
    assertMatch(jit.stderr, /Check failed/);
  },
}));
