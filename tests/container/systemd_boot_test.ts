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
import { compiledBinary, peerArgv, sshArgv } from "../support/tarpyt.ts";
import { run, RunningProcess } from "../support/process.ts";
import { SystemdContainer } from "../support/systemd_container.ts";
import { needing } from "../support/tools.ts";
import { parseExposition, sampleValue } from "../support/prometheus_text.ts";
import { runtimeFlags } from "../../src/runtime/flags.ts";
import { protocols } from "../../protocols/mod.ts";

const root = new URL("../..", import.meta.url).pathname;
const libDir = "/usr/local/lib/tarpyt";

async function installProgram(container: SystemdContainer): Promise<void> {
  const bin = Deno.env.get("TARPYT_BIN");
  if (bin && compiledBinary()) return await container.copyIn(bin, "/usr/local/bin/tarpyt");
  await container.copyIn(Deno.execPath(), `${libDir}/deno`);
  for (const path of ["main.ts", "src", "protocols", "deno.json", "deno.lock"]) {
    await container.copyIn(`${root}${path}`, `${libDir}/${path}`);
  }
  const flags = runtimeFlags.map((flag) => `'${flag}'`).join(" ");
  const launcher = `${container.root}/usr/local/bin/tarpyt`;
  await Deno.writeTextFile(
    launcher,
    "#!/bin/sh\n# Stands in for the compiled binary: the same entry point, the same flags.\n" +
      `DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 exec ${libDir}/deno run ${flags} ` +
      `${libDir}/main.ts "$@"\n`,
  );
  await Deno.chmod(launcher, 0o755);
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
        c.onNetwork(peerArgv("held", "smtp", "127.0.0.1", String(protocolPorts.smtp), "3")),
      );
      await smtp.waitFor(/STILL WAITING|ENDED/, { timeoutMs: 10_000 });
      assertMatch(smtp.output, /STILL WAITING/);
      assertMatch(smtp.output, /reply: b'220-/);
    });

    await t.step(
      "SIGUSR1 opens no inspector anyone can reach, and the tarpit serves on",
      async () => {
        await c.mustExec(["systemctl", "kill", "--kill-whom=main", "-s", "SIGUSR1", service]);
        // V8 tried: RestrictAddressFamilies=AF_UNIX refused it an internet socket.
        await waitUntil("the inspector's failure in the journal", async () => {
          const journal = await c.mustExec([
            "journalctl",
            "--no-pager",
            "-o",
            "cat",
            "-u",
            service,
          ]);
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
        for (const address of ["10.99.0.1/24", "10.99.0.2/24"]) {
          await run(c.onNetwork(["ip", "address", "add", address, "dev", "lo"]));
        }
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
            "journalctl --no-pager -n 20 -u fail2ban; tail -20 /var/log/fail2ban.log; " +
            "journalctl --no-pager -o verbose -n 2 _SYSTEMD_SLICE=tarpyt.slice",
          ]);
          throw new Error(`${error.message}\n${await banned()}\n${logs.stdout}${logs.stderr}`);
        });
        assert(!/10\.99\.0\.9/.test(await banned()), await banned());
        const report = await c.mustExec([
          "sh",
          "-c",
          "journalctl -o short-iso _SYSTEMD_SLICE=tarpyt.slice | tarpyt report",
        ]);
        assertMatch(report, /10\.99\.0\.2/);
        assert(!/10\.99\.0\.9/.test(report), report);
      },
    );

    await t.step("systemctl stop ends it cleanly, with the totals in the journal", async () => {
      await c.mustExec(["systemctl", "stop", "tarpyt-ssh@2222.socket", service]);
      assertEquals(await property(c, service, "Result"), "success");
      assertEquals(await property(c, service, "ExecMainStatus"), "0");
      const journal = await c.mustExec(["journalctl", "--no-pager", "-o", "cat", "-u", service]);
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
      const journal = await c.mustExec(["journalctl", "--no-pager", "-o", "cat", "-u", service]);
      assertMatch(
        journal,
        /^METRICS fd=\d name=metrics address=unix$/m,
      );
    });
  },
}));
