/**
 * The unit files under real systemd: a container boots systemd 252 as PID 1, the program
 * is installed as /usr/local/bin/tarpyt, the units come from `tarpyt systemd print`, and
 * real clients connect from the container's network namespace.
 *
 * The program is `$TARPYT_BIN` when that is a compiled binary. Otherwise a two-line
 * launcher stands in for the binary (which cannot be built on these machines): it runs
 * the same entry point with the same flags (src/runtime/flags.ts), from a copy of the
 * source.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { compiledBinary, loadArgv, peerArgv, sshArgv, withJit } from "../support/tarpyt.ts";
import { run, RunningProcess } from "../support/process.ts";
import { SystemdContainer } from "../support/systemd_container.ts";
import { needing } from "../support/tools.ts";
import { parseExposition, sampleValue } from "../support/prometheus_text.ts";
import { runtimeFlags } from "../../src/runtime/flags.ts";
import { protocols } from "../../protocols/mod.ts";

const root = new URL("../..", import.meta.url).pathname;
const libDir = "/usr/local/lib/tarpyt";

/**
 * Writes `/usr/local/bin/NAME`, a stand-in for a compiled binary built with `flags`: it
 * runs the same entry point with them, from a copy of the runtime and the source.
 */
async function installLauncher(
  container: SystemdContainer,
  name: string,
  flags: readonly string[],
): Promise<void> {
  try {
    await Deno.stat(`${container.root}${libDir}/deno`);
  } catch {
    await container.copyIn(Deno.execPath(), `${libDir}/deno`);
    for (const path of ["main.ts", "src", "protocols", "deno.json", "deno.lock"]) {
      await container.copyIn(`${root}${path}`, `${libDir}/${path}`);
    }
  }
  const quoted = flags.map((flag) => `'${flag}'`).join(" ");
  const launcher = `${container.root}/usr/local/bin/${name}`;
  await Deno.writeTextFile(
    launcher,
    "#!/bin/sh\n# Stands in for a compiled binary: the same entry point, its flags.\n" +
      `DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 exec ${libDir}/deno run ${quoted} ` +
      `${libDir}/main.ts "$@"\n`,
  );
  await Deno.chmod(launcher, 0o755);
}

async function installProgram(container: SystemdContainer): Promise<void> {
  const bin = Deno.env.get("TARPYT_BIN");
  if (bin && compiledBinary()) return await container.copyIn(bin, "/usr/local/bin/tarpyt");
  await installLauncher(container, "tarpyt", runtimeFlags);
}

/** A drop-in, as `systemctl edit` writes one: a byte every 20 ms keeps the test short. */
async function fastLines(container: SystemdContainer, name: string): Promise<void> {
  const dir = `${container.root}/etc/systemd/system/tarpyt-${name}@.service.d`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/fast.conf`,
    "[Service]\nEnvironment=TARPYT_FIRST_DELAY=200ms TARPYT_DELAY=20ms TARPYT_JITTER=0s " +
      "TARPYT_MAX_LINE_LENGTH=32\n",
  );
}

async function property(c: SystemdContainer, unit: string, name: string): Promise<string> {
  return (await c.mustExec(["systemctl", "show", "-p", name, "--value", unit])).trim();
}

/** What a unit has logged, its messages only. */
function unitLog(c: SystemdContainer, unit: string): Promise<string> {
  return c.mustExec(["journalctl", "--no-pager", "-o", "cat", "-u", unit]);
}

/** Gives the container's network these addresses on its loopback, for clients to come from. */
async function addAddresses(c: SystemdContainer, ...addresses: string[]): Promise<void> {
  for (const address of addresses) {
    await run(c.onNetwork(["ip", "address", "add", address, "dev", "lo"]));
  }
}

async function mainPid(c: SystemdContainer, unit: string): Promise<number> {
  const pid = Number(await property(c, unit, "MainPID"));
  assert(pid > 0, `${unit} has no main process`);
  return pid;
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited 30 s in vain for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `ssh -v` from the container's network, held until disposed. */
function sshClient(c: SystemdContainer, host: string, port: number): RunningProcess {
  return new RunningProcess(c.onNetwork(sshArgv(host, port)));
}

/** Listening TCP ports of a process's network namespace, from /proc/PID/net/tcp{,6}. */
async function listeningPorts(c: SystemdContainer, pid: number): Promise<number[]> {
  const tables = await c.mustExec(["cat", `/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]);
  return [...tables.matchAll(/^\s*\d+: [0-9A-F]+:([0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} 0A /gm)]
    .map((m) => parseInt(m[1], 16));
}

/**
 * A process's executable mappings backed by no file: the code V8's JIT writes. Without the
 * JIT, V8 runs only the code of the binary and maps none.
 */
async function writtenCode(c: SystemdContainer, pid: number): Promise<string[]> {
  const maps = await c.mustExec(["cat", `/proc/${pid}/maps`]);
  return maps.split("\n").filter((line) => /^\S+ ..x. \S+ 00:00 0\s*$/.test(line));
}

const protocolPorts = { ssh: 2222, http: 8080, smtp: 2525 } as const;

Deno.test(needing(["root", "debootstrap", "systemd-nspawn", "python3", "ssh", "curl"], {
  name: "under real systemd, enabled sockets start sandboxed tarpits that trap real clients",
  async fn(t): Promise<void> {
    await using container = await SystemdContainer.boot();
    const c = container;
    await installProgram(c);

    await t.step(
      "tarpyt systemd print | tar -x installs both units of every protocol",
      async () => {
        const { stdout, stderr } = await c.exec([
          "sh",
          "-c",
          "tarpyt systemd print | tar -x -v -C /etc/systemd/system",
        ]);
        const installed = stdout.trim().split("\n").sort();
        const expected = Object.keys(protocols).flatMap((p) => [
          `tarpyt-${p}@.service`,
          `tarpyt-${p}@.socket`,
        ]).sort();
        assertEquals(installed, expected, stderr);
        const service = await Deno.readTextFile(`${c.root}/etc/systemd/system/tarpyt-ssh@.service`);
        assertMatch(service, /^ExecStart=\/usr\/local\/bin\/tarpyt --protocol ssh$/m);
      },
    );

    for (const name of Object.keys(protocolPorts)) await fastLines(c, name);
    await c.mustExec(["systemctl", "daemon-reload"]);
    const instances = Object.entries(protocolPorts).map(([name, port]) => `tarpyt-${name}@${port}`);

    await t.step("systemd-analyze verify passes for every instance", async () => {
      const units = instances.flatMap((i) => [`${i}.socket`, `${i}.service`]);
      const verify = await c.exec(["systemd-analyze", "verify", ...units]);
      assertEquals(verify.code, 0, verify.stderr);
      assert(!/tarpyt/.test(verify.stderr), verify.stderr);
    });

    await c.mustExec(["systemctl", "enable", "--now", ...instances.map((i) => `${i}.socket`)]);
    await using ssh = sshClient(c, "127.0.0.1", protocolPorts.ssh);

    await t.step("ssh -v reads pre-banner lines and is still waiting", async () => {
      const banners = await ssh.waitFor(/banner line \d+: [^\n]*/, { times: 3 });
      assert(banners.every((line) => !/: SSH-/.test(line)), banners.join("\n"));
      assertEquals(ssh.status, undefined, "ssh must still be waiting");
    });

    const service = "tarpyt-ssh@2222.service";
    const pid = await mainPid(c, service);

    await t.step(
      "the service runs as a dynamic user, with no capability, seccomp on, in its own network namespace",
      async () => {
        assertEquals(await property(c, service, "ActiveState"), "active");
        const status = await c.mustExec(["cat", `/proc/${pid}/status`]);
        const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
        assert(uid >= 61_184 && uid <= 65_519, `uid ${uid} is not in systemd's dynamic range`);
        assertMatch(status, /^Seccomp:\s+2$/m);
        assertMatch(status, /^NoNewPrivs:\s+1$/m);
        assertMatch(status, /^CapEff:\s+0+$/m);
        assertMatch(status, /^CapBnd:\s+0+$/m);
        const netns = await c.mustExec(["readlink", `/proc/${pid}/ns/net`, "/proc/1/ns/net"]);
        const [own, host] = netns.trim().split("\n");
        assert(own !== host, `the service shares PID 1's network namespace ${host}`);
        const limits = await c.mustExec(["cat", `/proc/${pid}/limits`]);
        const maxFiles = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
        assert(maxFiles > 4096 + 25, `LimitNOFILE ${maxFiles} leaves no room above 4096 clients`);
      },
    );

    await t.step("V8 without its JIT, as MemoryDenyWriteExecute= requires", async () => {
      assertEquals(await property(c, service, "MemoryDenyWriteExecute"), "yes");
      assertEquals(await writtenCode(c, pid), []);
    });

    await t.step("systemctl status shows the live STATUS line", async () => {
      const pattern = /1 clients held now, 1 trapped since start, [1-9]\d* bytes sent/;
      await waitUntil(
        "STATUS=",
        async () => pattern.test(await property(c, service, "StatusText")),
      );
      const status = await c.exec(["systemctl", "status", "--no-pager", service]);
      assertMatch(status.stdout, new RegExp(`Status: "${pattern.source}"`));
      assertEquals(await property(c, service, "Type"), "notify");
      // The watchdog is on, and hears from the service.
      assertEquals(await property(c, service, "WatchdogUSec"), "30s");
      // systemd stamps the watchdog at start; a ping stamps it again later.
      const started = Number(await property(c, service, "ExecMainStartTimestampMonotonic"));
      await waitUntil(
        "a watchdog ping",
        async () =>
          Number(await property(c, service, "WatchdogTimestampMonotonic")) > started + 500_000,
      );
      assert(Number(await property(c, "tarpyt-ssh@2222.socket", "IPEgressBytes")) > 0);
    });

    await t.step("curl and smtplib are held too", async () => {
      await using curl = new RunningProcess(c.onNetwork([
        "curl",
        "-sv",
        "--no-buffer",
        `http://127.0.0.1:${protocolPorts.http}/`,
      ]));
      await curl.waitFor(/< HTTP\/1\.1 100 Continue/);
      await curl.waitFor(/< X-[^\n]*/, { times: 3 });
      assertEquals(curl.status, undefined, "curl must still be waiting");
      await using smtp = new RunningProcess(
        c.onNetwork(peerArgv("held", "smtp", "127.0.0.1", String(protocolPorts.smtp), "3600")),
      );
      // The first connection starts the service: wait for its reply, however long that takes.
      await smtp.waitFor(/reply: b'220-/, { timeoutMs: 60_000 });
      assert(!/ENDED/.test(smtp.output), smtp.output);
      assertEquals(smtp.status, undefined, "smtplib must still be waiting");
    });

    await t.step(
      "a V8 with its JIT cannot start under the units' MemoryDenyWriteExecute=: the reason " +
        "--jitless is built in",
      async () => {
        const http = "tarpyt-http@8080.service";
        // The program built with the same flags, but for --jitless.
        await installLauncher(c, "tarpyt-jit", runtimeFlags.map(withJit));
        const dropIn = `${c.root}/etc/systemd/system/tarpyt-http@.service.d/jit.conf`;
        await Deno.writeTextFile(
          dropIn,
          "[Service]\nExecStart=\nExecStart=/usr/local/bin/tarpyt-jit --protocol http\n",
        );
        await c.mustExec(["systemctl", "daemon-reload"]);
        const since = (await c.mustExec(["date", "+%s.%N"])).trim();
        const failed = await c.exec(["systemctl", "restart", http]);
        assert(failed.code !== 0, "V8 with its JIT started under MemoryDenyWriteExecute=");
        await waitUntil(
          "V8's failed check in the journal",
          async () =>
            /Deno has panicked[^]*Fatal error in :0: Check failed/.test(
              await c.mustExec(
                ["journalctl", "--no-pager", "-o", "cat", "-u", http, `--since=@${since}`],
              ),
            ),
        );
        // Out of its restart loop before its start limit, and back as shipped.
        await c.mustExec(["systemctl", "stop", http]);
        await c.mustExec(["systemctl", "reset-failed", http]);
        await Deno.remove(dropIn);
        await c.mustExec(["systemctl", "daemon-reload"]);
        await c.mustExec(["systemctl", "start", http]);
        assertEquals(await writtenCode(c, await mainPid(c, http)), []);
      },
    );

    // Before the storm: fail2ban starts by reading the last findtime (an hour) of the slice's
    // journal, and the storm's lines would keep it reading past any wait for the ban.
    await t.step(
      "fail2ban reads the journal and bans a trapped client; a forged log line bans nobody",
      async () => {
        await c.copyIn(`${root}contrib/fail2ban/filter.d/tarpyt.conf`, "/etc/fail2ban/filter.d/");
        await c.copyIn(`${root}contrib/fail2ban/jail.d/tarpyt.conf`, "/etc/fail2ban/jail.d/");
        // No firewall here: bans are only recorded. Debian's sshd jail has nothing to watch.
        await Deno.writeTextFile(
          `${c.root}/etc/fail2ban/jail.d/zz-test.conf`,
          "[DEFAULT]\nbanaction = dummy\nbanaction_allports = dummy\n[sshd]\nenabled = false\n",
        );
        await c.mustExec(["systemctl", "restart", "fail2ban"]);
        // Addresses fail2ban does not ignore, as loopback is.
        await addAddresses(c, "10.99.0.1/24", "10.99.0.2/24");
        await using _client = new RunningProcess(
          c.onNetwork(
            peerArgv("noread", "10.99.0.1", String(protocolPorts.ssh), "4096", "1", "10.99.0.2"),
          ),
        );
        // Any local user can write a line as "tarpyt": it must ban nobody.
        await c.mustExec([
          "runuser",
          "-u",
          "nobody",
          "--",
          "logger",
          "-t",
          "tarpyt",
          "ACCEPT host=10.99.0.9 port=1 fd=1 n=1/4096",
        ]);
        const banned = async (): Promise<string> =>
          (await c.exec(["fail2ban-client", "status", "tarpyt"])).stdout;
        await waitUntil(
          "the ban",
          async () => /Banned IP list:.*\b10\.99\.0\.2\b/.test(await banned()),
        ).catch(async (error) => {
          const logs = await c.exec([
            "sh",
            "-c",
            // fail2ban's own log last: a failure's output is read from its end.
            "journalctl --no-pager -o short-iso -n 3 _SYSTEMD_SLICE=tarpyt.slice; " +
            "journalctl --no-pager -n 20 -u fail2ban; tail -20 /var/log/fail2ban.log",
          ]);
          throw new Error(`${error.message}\n${await banned()}\n${logs.stdout}${logs.stderr}`);
        });
        assert(!/10\.99\.0\.9/.test(await banned()), await banned());
        const report = await c.mustExec([
          "sh",
          "-c",
          // Only this unit's lines: the other units' clients would crowd the top 10.
          "journalctl -o short-iso _SYSTEMD_SLICE=tarpyt.slice " +
          "_SYSTEMD_UNIT=tarpyt-ssh@2222.service | tarpyt report",
        ]);
        assertMatch(report, /10\.99\.0\.2/);
        assert(!/10\.99\.0\.9/.test(report), report);
        // Its reading of the storm's lines would compete with the storm for the CPU.
        await c.mustExec(["systemctl", "stop", "fail2ban"]);
      },
    );

    await t.step(
      "CPUQuota= caps a storm of clients where the kernel delegates cpu; CPUWeight=idle",
      async () => {
        const http = "tarpyt-http@8080.service";
        assertEquals(
          await property(c, http, "CPUQuotaPerSecUSec"),
          "340ms",
          "as sized: 25% + 4096 x 0.002%",
        );
        assertEquals(await property(c, http, "CPUWeight"), "idle");
        // A tighter quota than shipped, so that one core's worth of storm shows it bite.
        const dir = `${c.root}/etc/systemd/system/${http}.d`;
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(`${dir}/quota.conf`, "[Service]\nCPUQuota=10%\n");
        await c.mustExec(["systemctl", "daemon-reload"]);
        assertEquals(await property(c, http, "CPUQuotaPerSecUSec"), "100ms");
        const before = Number(await property(c, http, "CPUUsageNSec"));
        const started = performance.now();
        const storm = await run(
          c.onNetwork(loadArgv("storm", "127.0.0.1", protocolPorts.http, 4_000, 10, 0.1, 200)),
        );
        const seconds = (performance.now() - started) / 1000;
        const used = (Number(await property(c, http, "CPUUsageNSec")) - before) / 1e9;
        const { connections } = JSON.parse(storm.stdout);
        console.log(
          `storm: ${connections} connections in ${seconds.toFixed(1)} s; the service used ` +
            `${used.toFixed(2)} s of CPU, ${
              (100 * used / seconds).toFixed(1)
            }% of a core, quota 10%`,
        );
        assert(connections > 1_000, storm.stdout + storm.stderr);
        // systemd can enforce a quota only where the kernel lets it have the cpu controller.
        // A host that keeps that controller on a cgroup v1 hierarchy (these machines do)
        // leaves the container's unified hierarchy without it: the unit is right, the
        // kernel cannot apply it, and the test says so rather than pretend.
        const controllers = await c.mustExec(["cat", "/sys/fs/cgroup/cgroup.controllers"]);
        if (!/\bcpu\b/.test(controllers)) {
          console.log(
            `the quota is not enforceable here: the container's cgroup has no cpu ` +
              `controller (it has: ${controllers.trim() || "none"})`,
          );
        } else {
          // The quota is enforced per 100 ms period: a period's overrun at most rounds it up.
          assert(used <= seconds * 0.1 + 0.1, `${used} s of CPU in ${seconds} s`);
        }
        await Deno.remove(`${dir}/quota.conf`);
        await c.mustExec(["systemctl", "daemon-reload"]);
      },
    );

    await t.step(
      "IPAddressDeny= on the socket leaves a source alone: no ACCEPT, no wait",
      async () => {
        await addAddresses(c, "10.99.1.3/24", "10.99.1.4/24");
        const socket = "tarpyt-smtp@2525.socket";
        const dir = `${c.root}/etc/systemd/system/${socket}.d`;
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(`${dir}/allow.conf`, "[Socket]\nIPAddressDeny=10.99.1.3\n");
        await c.mustExec(["systemctl", "daemon-reload"]);
        await c.mustExec(["systemctl", "restart", socket]);
        const connect = (source: string) =>
          run(c.onNetwork([
            "python3",
            "-c",
            "import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); s.settimeout(3); " +
            "s.connect(('10.99.1.4', 2525)); print('connected')",
            source,
          ]));
        const denied = await connect("10.99.1.3");
        assert(!/connected/.test(denied.stdout), "a denied source's SYN goes unanswered");
        assertMatch((await connect("10.99.1.4")).stdout, /connected/);
        await waitUntil("the allowed source's ACCEPT", async () => {
          const journal = await unitLog(c, "tarpyt-smtp@2525.service");
          return /ACCEPT host=10\.99\.1\.4 /.test(journal);
        });
        const journal = await unitLog(c, "tarpyt-smtp@2525.service");
        assert(!/10\.99\.1\.3/.test(journal), journal);
      },
    );

    await t.step(
      "SIGUSR1 opens no inspector anyone can reach, and the tarpit serves on",
      async () => {
        await c.mustExec(["systemctl", "kill", "--kill-whom=main", "-s", "SIGUSR1", service]);
        // V8 tried: RestrictAddressFamilies=AF_UNIX refused it an internet socket.
        await waitUntil("the inspector's failure in the journal", async () => {
          const journal = await unitLog(c, service);
          return /Failed to start inspector server/.test(journal);
        });
        assertEquals(await property(c, service, "ActiveState"), "active");
        assertEquals(await mainPid(c, service), pid, "the service was not restarted");
        const servicePorts = await listeningPorts(c, pid);
        const containerPorts = await listeningPorts(c, 1);
        assert(!servicePorts.includes(9229) && !containerPorts.includes(9229), "9229 listens");
        const before = (ssh.output.match(/banner line/g) ?? []).length;
        await ssh.waitFor(/banner line \d+:/, { times: before + 2 });
      },
    );

    await t.step("the port comes from the instance name alone, IPv4 or IPv6", async () => {
      const v6 = (await c.mustExec([
        "systemd-escape",
        "--template=tarpyt-ssh@.socket",
        "[::1]:2201",
      ])).trim();
      await c.mustExec(["systemctl", "start", "tarpyt-ssh@127.0.0.1:2200.socket", v6]);
      assertEquals(
        await property(c, "tarpyt-ssh@127.0.0.1:2200.socket", "Listen"),
        "127.0.0.1:2200 (Stream)",
      );
      assertEquals(await property(c, v6, "Listen"), "[::1]:2201 (Stream)");
      for (const [host, port] of [["127.0.0.1", 2200], ["::1", 2201]] as const) {
        await using client = sshClient(c, host, port);
        await client.waitFor(/banner line 1: /).catch(async (error) => {
          const journal = await c.exec(["journalctl", "--no-pager", "-n", "40"]);
          throw new Error(`${error.message}\njournal:\n${journal.stdout}`);
        });
      }
    });

    await t.step(
      "CrowdSec reads the slice's journal through contrib/crowdsec: a trapped client becomes " +
        "a decision at its own time; a forged line makes none",
      async () => {
        for (const file of ["acquis.d/tarpyt.yaml", "parsers/s01-parse/tarpyt-logs.yaml"]) {
          await c.copyIn(`${root}contrib/crowdsec/${file}`, `/etc/crowdsec/${file}`);
        }
        await c.copyIn(`${root}contrib/crowdsec/scenarios/tarpyt.yaml`, "/etc/crowdsec/scenarios/");
        // The local API's default port, 8080, is tarpyt-http@8080's here.
        await Deno.writeTextFile(
          `${c.root}/etc/crowdsec/config.yaml.local`,
          "api:\n  server:\n    listen_uri: 127.0.0.1:8081\n",
          { append: true },
        );
        await c.mustExec([
          "sed",
          "-i",
          "s#127.0.0.1:8080#127.0.0.1:8081#",
          "/etc/crowdsec/local_api_credentials.yaml",
        ]);
        await c.mustExec(["systemctl", "start", "crowdsec"]);
        // It follows the journal from its end (`journalctl --follow -n 0`): lines written
        // before it reads are never read. A line from the slice that it has counted says it
        // reads; a line that is no event makes no decision.
        await c.mustExec([
          "systemd-run",
          "--unit=crowdsec-canary",
          "--slice=tarpyt.slice",
          "-p",
          "SyslogIdentifier=tarpyt",
          "sh",
          "-c",
          "while sleep 0.5; do echo 'a line for CrowdSec to count'; done",
        ]);
        await waitUntil(
          "CrowdSec reading the slice's journal",
          async () =>
            /^cs_journalctlsource_hits_total\{[^}]*tarpyt\.slice[^}]*\} [1-9]/m.test(
              (await c.exec(["curl", "-s", "http://127.0.0.1:6060/metrics"])).stdout,
            ),
        );
        await c.mustExec(["systemctl", "stop", "crowdsec-canary"]);
        // Documentation addresses: CrowdSec's default whitelist spares private ones.
        await addAddresses(c, "203.0.113.1/24", "203.0.113.7/24");
        // Six connections within the leak of tarpyt-bf's five, from one source.
        await using _client = new RunningProcess(
          c.onNetwork(
            peerArgv(
              "noread",
              "203.0.113.1",
              String(protocolPorts.ssh),
              "4096",
              "6",
              "203.0.113.7",
            ),
          ),
        );
        // tarpyt-held reads a CLOSE line of a client held a minute. A stand-in process in
        // the slice writes the line as the service does, so that the test need not wait
        // the minute; it lives on a moment, since journald reads a process's slice only
        // while it lives.
        await c.mustExec([
          "systemd-run",
          "--slice=tarpyt.slice",
          "-p",
          "SyslogIdentifier=tarpyt",
          "sh",
          "-c",
          "echo 'CLOSE host=203.0.113.8 port=40000 fd=9 time=61.250 bytes=4113 left=write " +
          "family=t61' && sleep 5",
        ]);
        // Any local user can write lines as "tarpyt": they must make no decision.
        for (
          const line of [1, 2, 3, 4, 5, 6, 7].map((n) =>
            `ACCEPT host=198.51.100.9 port=${n} fd=1 n=1/4096`
          )
            .concat("CLOSE host=198.51.100.9 port=1 fd=1 time=600.000 bytes=1 left=write family=x")
        ) {
          await c.mustExec(["runuser", "-u", "nobody", "--", "logger", "-t", "tarpyt", line]);
        }
        type Alert = {
          scenario: string;
          source: { ip: string };
          events: { timestamp: string }[];
          decisions: { value: string; type: string; duration: string }[];
        };
        const alerts = async (): Promise<Alert[]> =>
          JSON.parse((await c.mustExec(["cscli", "alerts", "list", "-o", "json"])) || "[]") ?? [];
        await waitUntil("both decisions", async () => (await alerts()).length >= 2)
          .catch(async (error) => {
            const logs = await c.exec(["sh", "-c", "tail -20 /var/log/crowdsec.log"]);
            throw new Error(`${error.message}\n${logs.stdout}`);
          });
        const decisions = await c.mustExec(["cscli", "decisions", "list", "-o", "raw"]);
        console.log(decisions.trim());
        assertMatch(decisions, /,Ip:203\.0\.113\.7,tarpyt\/tarpyt-bf,ban,/);
        assertMatch(decisions, /,Ip:203\.0\.113\.8,tarpyt\/tarpyt-held,ban,/);
        assert(!/198\.51\.100\.9/.test(decisions), decisions);
        // Each event carries the time of its journal line, to the second the line gives.
        const journal = await c.mustExec([
          "journalctl",
          "-o",
          "short-unix",
          "--no-pager",
          "_SYSTEMD_SLICE=tarpyt.slice",
        ]);
        const accepted = [
          ...journal.matchAll(/^(\d+)\.\d+ \S+ tarpyt\[\d+\]: ACCEPT host=203\.0\.113\.7 /gm),
        ]
          .map((m) => Number(m[1]));
        const bf = (await alerts()).find((a) => a.scenario === "tarpyt/tarpyt-bf");
        const stamped = bf?.events.map((e) =>
          Date.parse(e.timestamp.replace(" ", "T").replace(" +0000 UTC", "Z")) / 1000
        )
          .sort();
        assertEquals(stamped, accepted.slice(0, 6).sort(), JSON.stringify(bf));
      },
    );

    await t.step(
      "systemd-journal-upload carries the lines to journal-remote, and tarpyt report reads them " +
        "per host",
      async () => {
        const remote = "/var/log/journal/remote";
        await c.mustExec(["mkdir", "-p", remote]);
        await c.mustExec([
          "systemd-run",
          "--unit=journal-remote-test",
          "/lib/systemd/systemd-journal-remote",
          "--listen-http=19532",
          `--output=${remote}/`,
        ]);
        await waitUntil(
          "journal-remote listening",
          async () =>
            (await c.exec(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:19532/"])).code === 0,
        );
        await c.mustExec([
          "systemd-run",
          "--unit=journal-upload-test",
          "/lib/systemd/systemd-journal-upload",
          "--url=http://127.0.0.1:19532",
        ]);
        // A second sensor, as its upload would arrive: the same lines under another name.
        await c.mustExec([
          "sh",
          "-c",
          "journalctl -o export _SYSTEMD_SLICE=tarpyt.slice | " +
          "sed 's/^_HOSTNAME=.*/_HOSTNAME=sensor-2/' | " +
          `/lib/systemd/systemd-journal-remote --output=${remote}/sensor-2.journal -`,
        ]);
        const report = () =>
          c.mustExec([
            "sh",
            "-c",
            `journalctl -D ${remote} -o short-iso _SYSTEMD_SLICE=tarpyt.slice | tarpyt report`,
          ]);
        await waitUntil(
          "both hosts in the report",
          async () => /per host:[\s\S]*sensor-2[\s\S]*\n {2}\S/.test(await report()),
        );
        const text = await report();
        console.log(text.slice(text.indexOf("per host:")).split("\n").slice(0, 4).join("\n"));
        const hostname = (await c.mustExec(["hostname"])).trim();
        assertMatch(text, new RegExp(`^  ${hostname} `, "m"));
        assertMatch(text, /^ {2}sensor-2 /m);
        await c.mustExec(["systemctl", "stop", "journal-upload-test", "journal-remote-test"]);
      },
    );

    await t.step("systemctl stop ends it cleanly, with the totals in the journal", async () => {
      await c.mustExec(["systemctl", "stop", "tarpyt-ssh@2222.socket", service]);
      assertEquals(await property(c, service, "Result"), "success");
      assertEquals(await property(c, service, "ExecMainStatus"), "0");
      const journal = await unitLog(c, service);
      assertMatch(
        journal,
        /^CLOSE host=127\.0\.0\.1 port=\d+ fd=1 time=\d+\.\d+ bytes=\d+ left=shutdown family=\S+$/m,
      );
      assertMatch(journal, /^TOTALS connects=\d+ seconds=\d+\.\d+ bytes=[1-9]\d*$/m);
      // The stop closed the connection: ssh says so, and ends.
      await ssh.waitFor(
        /kex_exchange_identification: (Connection closed by remote host|read: Connection reset by peer)/,
      );
      assert(await ssh.exitsWithin(10_000), "ssh must end once its connection is closed");
    });

    await t.step("contrib/systemd passes a unix metrics socket only root can scrape", async () => {
      await c.copyIn(`${root}contrib/systemd/.`, "/etc/systemd/system");
      await c.mustExec(["systemctl", "daemon-reload"]);
      await c.mustExec(["systemctl", "start", "tarpyt-ssh-metrics@2222.socket"]);
      await c.mustExec(["systemctl", "start", "tarpyt-ssh@2222.socket", service]);
      await using client = sshClient(c, "127.0.0.1", protocolPorts.ssh);
      await client.waitFor(/banner line 1: /);
      const socket = "/run/tarpyt-ssh-2222-metrics.sock";
      const mode = (await c.mustExec(["stat", "-c", "%a %U", socket])).trim();
      assertEquals(mode, "600 root", "no other local user reaches the metrics");
      const scrape = await run(
        c.inside(["curl", "-s", "--unix-socket", socket, "http://tarpyt/metrics"]),
      );
      const exposition = parseExposition(scrape.stdout);
      assertEquals(
        sampleValue(exposition, "endlessh_client_open_count_total", { local_port: "2222" }),
        1,
      );
      const journal = await unitLog(c, service);
      assertMatch(
        journal,
        /^METRICS fd=\d name=metrics address=unix$/m,
      );
    });

    await t.step(
      "Prometheus scrapes it with contrib's config and rules; every dashboard query returns data",
      async () => {
        // Prometheus reads no unix socket: the metrics socket moves to loopback, as an
        // operator's drop-in would.
        const dropIn = `${c.root}/etc/systemd/system/tarpyt-ssh-metrics@.socket.d`;
        await Deno.mkdir(dropIn, { recursive: true });
        await Deno.writeTextFile(
          `${dropIn}/tcp.conf`,
          "[Socket]\nListenStream=\nListenStream=127.0.0.1:9101\n",
        );
        await c.mustExec(["systemctl", "stop", service, "tarpyt-ssh-metrics@2222.socket"]);
        await c.mustExec(["systemctl", "daemon-reload"]);
        await c.mustExec(["systemctl", "start", "tarpyt-ssh-metrics@2222.socket"]);
        await c.mustExec(["systemctl", "start", service]);
        await using held = sshClient(c, "127.0.0.1", protocolPorts.ssh);
        await held.waitFor(/banner line 1: /);
        const metrics = await c.exec([
          "sh",
          "-c",
          "curl -sf http://127.0.0.1:9101/metrics | promtool check metrics",
        ]);
        assertEquals([metrics.code, metrics.stdout + metrics.stderr], [0, ""]);

        // contrib's scrape config and rules, scraped every second.
        const scrape = (await Deno.readTextFile(`${root}contrib/prometheus/tarpyt.yml`))
          .replace("scrape_interval: 30s", "scrape_interval: 1s");
        await c.copyIn(`${root}contrib/prometheus/tarpyt-rules.yml`, "/etc/prometheus/");
        await Deno.writeTextFile(
          `${c.root}/etc/prometheus/tarpyt.yml`,
          `rule_files: [tarpyt-rules.yml]\n${scrape}`,
        );
        const config = await c.exec(["promtool", "check", "config", "/etc/prometheus/tarpyt.yml"]);
        const rules = await c.exec([
          "promtool",
          "check",
          "rules",
          "/etc/prometheus/tarpyt-rules.yml",
        ]);
        console.log(`${config.stdout}${rules.stdout}`.trim());
        assertEquals(config.code, 0, config.stdout + config.stderr);
        assertMatch(config.stdout, /SUCCESS: 1 rule files found/);
        assertMatch(rules.stdout, /SUCCESS: 3 rules found/);
        await c.mustExec([
          "systemd-run",
          "--unit=prometheus-test",
          "prometheus",
          "--config.file=/etc/prometheus/tarpyt.yml",
          "--storage.tsdb.path=/var/tmp/prometheus-test",
          "--web.listen-address=127.0.0.1:9090",
          "--web.enable-remote-write-receiver",
        ]);
        // docs/fleet.md's way for many hosts: an agent on each scrapes its tarpits, names
        // the host as the instance, and writes to the central Prometheus.
        await Deno.writeTextFile(
          `${c.root}/etc/prometheus/agent.yml`,
          [
            "global: {scrape_interval: 1s}",
            "scrape_configs:",
            "  - job_name: tarpyt",
            "    static_configs: [{targets: ['127.0.0.1:9101']}]",
            "    relabel_configs: [{target_label: instance, replacement: sensor-1}]",
            "remote_write: [{url: 'http://127.0.0.1:9090/api/v1/write'}]",
            "",
          ].join("\n"),
        );
        await c.mustExec([
          "systemd-run",
          "--unit=prometheus-agent-test",
          "prometheus",
          "--enable-feature=agent",
          "--config.file=/etc/prometheus/agent.yml",
          "--storage.agent.path=/var/tmp/prometheus-agent-test",
          "--web.listen-address=127.0.0.1:9091",
        ]);
        const query = async (expr: string): Promise<{ status: string; result: unknown[] }> => {
          // -f: while Prometheus starts it answers 503, which is no answer yet.
          const answer = await c.exec([
            "curl",
            "-sf",
            "--get",
            "--data-urlencode",
            `query=${expr}`,
            "http://127.0.0.1:9090/api/v1/query",
          ]);
          const { status, data } = JSON.parse(answer.stdout || "{}");
          return { status, result: data?.result ?? [] };
        };
        const scraped = (times: number) =>
          waitUntil(
            `${times} scrapes`,
            async () =>
              (await query(`count_over_time(up{job="tarpyt"}[1h]) >= ${times}`)).result.length >
                0,
          );
        await scraped(3);
        // A client leaves: its time goes into the histogram and the counters move.
        const gone = sshClient(c, "127.0.0.1", protocolPorts.ssh);
        await gone.waitFor(/banner line 1: /);
        await gone[Symbol.asyncDispose]();
        await waitUntil(
          "the departure",
          async () =>
            /^CLOSE /m.test(
              await unitLog(c, service),
            ),
        );
        await scraped(8);
        const dashboard = JSON.parse(
          await Deno.readTextFile(`${root}contrib/grafana/tarpyt-dashboard.json`),
        ) as { panels: { title: string; targets: { expr: string }[] }[] };
        const expressions = dashboard.panels.flatMap((panel) =>
          panel.targets.map((target) => [panel.title, target.expr])
        );
        assert(expressions.length > 5, "the dashboard's expressions were found");
        await waitUntil(
          "the agent's samples",
          async () => (await query('up{job="tarpyt", instance="sensor-1"} == 1')).result.length > 0,
        );
        // What Grafana sends with "All" chosen for both variables, then with the agent's host.
        for (const instance of [".+", "sensor-1"]) {
          for (const [title, expr] of expressions) {
            const chosen = expr.replaceAll("$job", "tarpyt").replaceAll("$instance", instance);
            const { status, result } = await query(chosen);
            assertEquals(status, "success", `${title}: ${chosen}`);
            assert(result.length > 0, `${title} returns no data: ${chosen}`);
          }
        }
        console.log(
          `${expressions.length} dashboard expressions returned data, for every instance and ` +
            "for the agent's",
        );
        // The agent first: stopped while the central one is, it waits its minute's flush
        // deadline for a remote write no one receives.
        await c.mustExec(["systemctl", "stop", "prometheus-agent-test"]);
        await c.mustExec(["systemctl", "stop", "prometheus-test"]);
      },
    );
  },
}));
