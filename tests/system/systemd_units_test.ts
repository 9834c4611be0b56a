/**
 * The unit templates as files: `systemd/` is exactly what `tarpyt systemd print` writes,
 * every protocol has its pair, and systemd's own scoring rates every service's exposure
 * at 0.5 or lower. (systemd_boot_test.ts runs them under real systemd.)
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { programEnv, run } from "../support/process.ts";
import { tarpytArgv } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";
import { hardLimit } from "../../src/metrics/metrics_server.ts";
import { protocols } from "../../protocols/mod.ts";

const root = new URL("../..", import.meta.url).pathname;

/** Runs `tarpyt systemd print ARGS | tar -x` into a new directory and returns the files. */
async function printedUnits(args: string[]): Promise<Map<string, string>> {
  const dir = await Deno.makeTempDir({ prefix: "tarpyt-units-" });
  try {
    const [bin, ...rest] = tarpytArgv(["systemd", "print", ...args]);
    const print = new Deno.Command(bin, {
      args: rest,
      env: programEnv,
      clearEnv: true,
      stdout: "piped",
    }).spawn();
    const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
    await print.stdout.pipeTo(tar.stdin);
    assertEquals((await print.status).code, 0);
    assertEquals((await tar.status).code, 0);
    const files = new Map<string, string>();
    for await (const entry of Deno.readDir(dir)) {
      files.set(entry.name, await Deno.readTextFile(`${dir}/${entry.name}`));
    }
    return files;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function shippedUnits(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(`${root}systemd`)) {
    files.set(entry.name, await Deno.readTextFile(`${root}systemd/${entry.name}`));
  }
  return files;
}

Deno.test("systemd/ holds exactly what `tarpyt systemd print` writes: a socket and a service per protocol", async () => {
  const printed = await printedUnits(["--exec-path", "/usr/local/bin/tarpyt"]);
  const shipped = await shippedUnits();
  const expected = Object.keys(protocols).flatMap((
    p,
  ) => [`tarpyt-${p}@.service`, `tarpyt-${p}@.socket`]);
  assertEquals(
    [...shipped.keys()].sort(),
    expected.sort(),
    "run `deno task units` to rewrite systemd/",
  );
  for (const [name, text] of shipped) {
    assertEquals(text, printed.get(name), `${name} drifted; run \`deno task units\``);
  }
  for (const name of Object.keys(protocols)) {
    const service = shipped.get(`tarpyt-${name}@.service`) ?? "";
    assertMatch(service, new RegExp(`^ExecStart=/usr/local/bin/tarpyt --protocol ${name}$`, "m"));
    assertMatch(service, new RegExp(`^Requires=tarpyt-${name}@%i\\.socket$`, "m"));
    assertMatch(shipped.get(`tarpyt-${name}@.socket`) ?? "", /^ListenStream=%I$/m);
  }
});

Deno.test("systemd print names the protocols asked for, and the path given", async () => {
  const printed = await printedUnits(["--exec-path", "/opt/tarpyt/bin/tarpyt", "smtp"]);
  assertEquals([...printed.keys()].sort(), ["tarpyt-smtp@.service", "tarpyt-smtp@.socket"]);
  assertMatch(
    printed.get("tarpyt-smtp@.service") ?? "",
    /^ExecStart=\/opt\/tarpyt\/bin\/tarpyt --protocol smtp$/m,
  );
  // systemd expands %-specifiers in ExecStart=: a literal % is written %%.
  const percent = await printedUnits(["--exec-path", "/opt/50%off/tarpyt", "ssh"]);
  assertMatch(
    percent.get("tarpyt-ssh@.service") ?? "",
    /^ExecStart=\/opt\/50%%off\/tarpyt --protocol ssh$/m,
  );
});

Deno.test("each service keeps room for its clients: LimitNOFILE above TARPYT_MAX_CLIENTS plus the runtime's files", async () => {
  for (const [name, text] of await shippedUnits()) {
    if (!name.endsWith(".service")) continue;
    const maxClients = Number(/^Environment=TARPYT_MAX_CLIENTS=(\d+)$/m.exec(text)?.[1]);
    const limit = Number(/^LimitNOFILE=(\d+)$/m.exec(text)?.[1]);
    // The runtime's own, its accept batch of 128 and the metrics connections at their most.
    const spare = 64 + 128 + hardLimit;
    assert(limit >= maxClients + spare, `${name}: LimitNOFILE=${limit}, clients ${maxClients}`);
    assertMatch(text, /^MemoryMax=\d+M$/m);
    assertMatch(text, /^TasksMax=\d+$/m);
  }
});

Deno.test(needing(["systemd-analyze"], {
  name: "systemd-analyze security rates every service's exposure at 0.2, as the README says",
  fn: async () => {
    for (const [name] of await shippedUnits()) {
      if (!name.endsWith(".service")) continue;
      const { stdout: report } = await run([
        "systemd-analyze",
        "security",
        "--offline=yes",
        "--no-pager",
        `${root}systemd/${name}`,
      ]);
      const score = Number(/Overall exposure level for .*: (\d+\.\d+)/.exec(report)?.[1]);
      assert(score <= 0.2, `${name}: exposure ${score}\n${report}`);
    }
  },
}));

Deno.test("systemd print to a terminal says how to unpack it, and writes no archive", async () => {
  const argv = tarpytArgv(["systemd", "print"]).map((word) => `'${word}'`).join(" ");
  const { code, stdout: text } = await run(
    ["script", "--quiet", "--return", "--command", argv, "/dev/null"],
    undefined,
    programEnv,
  );
  assertEquals(code, 2, text);
  assertMatch(
    text,
    /^tarpyt: systemd print writes a tar archive; pipe it: tarpyt systemd print \| sudo tar -x/,
  );
  assert(!text.includes("ustar"), text);
});
