/**
 * Clients leaving in numbers, against the real program: ghosts that connect and close
 * cost no slot for long and teach the learner nothing, and every client that came has its
 * CLOSE in the log, at a stop with thousands held too, and whether stderr is a file or a
 * non-blocking pipe.
 *
 * @module
 */
import { assert, assertEquals } from "../support/assert.ts";
import { connect, fetchText, freePort, untilListening } from "../support/net.ts";
import { parseExposition, sampleValue } from "../support/prometheus_text.ts";
import { programEnv, RunningProcess } from "../support/process.ts";
import { listening, loadArgv, tarpytArgv } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";

Deno.test(needing(["python3"], {
  name:
    "200 ghosts a second from 128 addresses hold a second each, not their 22 s first delay: the slots stay free",
  fn: async () => {
    const [port, metricsPort] = [freePort(), freePort()];
    await using _tarpyt = new RunningProcess(tarpytArgv([
      "--protocol",
      "http",
      "--listen",
      `127.0.0.1:${port}`,
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
      "--log-level",
      "warning",
    ]));
    // The tarpit's socket is bound before the metrics socket: wait for both.
    await untilListening(port);
    await untilListening(metricsPort);
    await using ghosts = new RunningProcess(loadArgv("ghosts", "127.0.0.1", port, 200, 10));
    const seen: number[] = [];
    while (ghosts.status === undefined) {
      const exposition = parseExposition(
        await fetchText(`http://127.0.0.1:${metricsPort}/metrics`),
      );
      seen.push(
        sampleValue(exposition, "tarpyt_clients", { protocol: "http", local_port: String(port) }) ??
          0,
      );
      await ghosts.exitsWithin(1_000);
    }
    const { connections, failed } = JSON.parse(/\{.*\}/.exec(ghosts.output)?.[0] ?? "{}");
    assert(connections >= 1_500 && failed === 0, ghosts.output);
    // Held until their first write, 22 s, they would be every one of them by now.
    const most = Math.max(...seen);
    assert(most < 600, `${most} slots held by clients that had left (${seen})`);
  },
}));

Deno.test({
  name:
    "a port scan's connections, closed at once, say nothing to the learner: the client after them gets the default, as a first contact does",
  fn: async () => {
    const metricsPort = freePort();
    const [started, { port }] = await listening([
      "--protocol",
      "ssh",
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
    ]);
    await using tarpyt = started;
    await untilListening(metricsPort);
    const scans = 10;
    for (let i = 1; i <= scans; i++) {
      // Each is decided on as it closes its end, and gone by its first write: its CLOSE says
      // what the learner was told before the next comes.
      (await connect({ hostname: "127.0.0.1", port })).close();
      await tarpyt.waitFor(/CLOSE host=127\.0\.0\.1 /, { times: i });
    }
    using _brute = await connect({ hostname: "127.0.0.1", port });
    // Each profile's count of clients given it, once the last has been decided on.
    let paced: Map<string, number> = new Map();
    // Polled: the bound only ends a failing wait.
    for (let decided = 0, polls = 0; decided < scans + 1; polls++) {
      assert(polls < 150 && tarpyt.status === undefined, `${decided} decided on\n${tarpyt.output}`);
      await tarpyt.until(() => false, 200);
      const exposition = parseExposition(
        await fetchText(`http://127.0.0.1:${metricsPort}/metrics`),
      );
      const samples = exposition.samples.filter((s) => s.name === "tarpyt_paced_clients_total");
      paced = new Map(samples.map((s) => [s.labels.profile, s.value]));
      decided = samples.reduce((sum, s) => sum + s.value, 0);
    }
    assertEquals(paced.get("default"), scans + 1, JSON.stringify([...paced]));
  },
});

/** TarPyt with stderr to a file, as journald reads it; its log once it has exited. */
class LoggingToFile implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  constructor(readonly path: string, args: readonly string[]) {
    const argv = tarpytArgv(args);
    this.child = new Deno.Command("sh", {
      args: ["-c", `exec "$@" 2>"${path}"`, "-", ...argv],
      env: { ...programEnv },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
    }).spawn();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* exited */ }
    await this.child.status;
  }
}

Deno.test(needing(["python3"], {
  name: "SIGTERM with 4,096 clients held, stderr a file: every ACCEPT has its CLOSE",
  fn: async () => {
    const port = freePort();
    const path = await Deno.makeTempFile({ prefix: "tarpyt-log-" });
    try {
      await using tarpyt = new LoggingToFile(path, [
        "--listen",
        `127.0.0.1:${port}`,
        "--max-per-ip",
        "100000",
        "--first-delay",
        "1s",
        "--delay",
        "10s",
      ]);
      await untilListening(port);
      await using crowd = new RunningProcess(loadArgv("hold", "127.0.0.1", port, 4095));
      await crowd.waitFor(/held 4095/, { timeoutMs: 60_000 });
      // The log says all are in (untilListening's client came and went): then the stop.
      const deadline = Date.now() + 30_000;
      while ((await Deno.readTextFile(path)).split(" ACCEPT ").length - 1 < 4096) {
        assert(Date.now() < deadline, "every ACCEPT logged");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      tarpyt.child.kill("SIGTERM");
      assertEquals((await tarpyt.child.status).code, 0);
      const log = await Deno.readTextFile(path);
      const count = (event: string) => log.split(` ${event} `).length - 1;
      // Which client went without its CLOSE, and how the log ended, if one did.
      const closed = new Set([...log.matchAll(/ CLOSE host=(\S+ port=\d+)/g)].map((m) => m[1]));
      const unclosed = [...log.matchAll(/^.* ACCEPT host=(\S+ port=\d+).*$/gm)]
        .filter((m) => !closed.has(m[1])).map((m) => m[0]);
      assertEquals(
        [count("ACCEPT"), count("CLOSE")],
        [4096, 4096],
        `no CLOSE for ${unclosed.join(" | ")}; the log ends:\n${
          log.trimEnd().split("\n").slice(-4).join("\n")
        }`,
      );
      assertEquals(count("LOG_DROPPED"), 0, "nothing was dropped");
    } finally {
      await Deno.remove(path);
    }
  },
}));

Deno.test(needing(["python3"], {
  name: "a non-blocking stderr that stalls costs lines, but every one is written or counted",
  fn: async () => {
    const [port, metricsPort] = [freePort(), freePort()];
    // Its parent gives it a non-blocking pipe for stderr, and reads nothing of it until
    // told to (SIGUSR1). A SIGTERM, waiting or reading, ends both: a handler would not run
    // while the parent waits in sigwait(), so it waits for either signal.
    await using tarpyt = new RunningProcess([
      "python3",
      "-c",
      `
import fcntl, os, signal, subprocess, sys
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGTERM])
child = subprocess.Popen(sys.argv[1:], stderr=w, stdout=subprocess.DEVNULL,
                         preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, []))
os.close(w)
def stop(*_):
    child.kill()
    os._exit(0)
if signal.sigwait([signal.SIGUSR1, signal.SIGTERM]) == signal.SIGTERM:
    stop()
signal.signal(signal.SIGTERM, stop)
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
print("reading", flush=True)
with os.fdopen(r, "rb") as log:
    for line in log:
        sys.stdout.write(line.decode())
        sys.stdout.flush()
`,
      ...tarpytArgv([
        "--listen",
        `127.0.0.1:${port}`,
        "--metrics-listen",
        `127.0.0.1:${metricsPort}`,
        "--max-per-ip",
        "100000",
      ]),
    ]);
    await untilListening(port);
    await untilListening(metricsPort);
    const metric = async (name: string, labels = {}) =>
      sampleValue(
        parseExposition(await fetchText(`http://127.0.0.1:${metricsPort}/metrics`)),
        name,
        labels,
      ) ?? 0;
    const byPort = { local_port: String(port) };
    {
      // Clients come and go, each an ACCEPT and a CLOSE line, until lines are dropped.
      await using ghosts = new RunningProcess(loadArgv("ghosts", "127.0.0.1", port, 300, 60));
      while (await metric("tarpyt_log_lines_dropped_total") === 0) {
        assert(await ghosts.exitsWithin(200) === false, "no line was dropped");
      }
    }
    // Every one has left, and its CLOSE is written, queued or counted: now the reader reads.
    await until(async () =>
      await metric("endlessh_client_open_count_total", byPort) ===
        await metric("endlessh_client_closed_count_total", byPort)
    );
    const clients = await metric("endlessh_client_open_count_total", byPort);
    tarpyt.child.kill("SIGUSR1");
    await tarpyt.waitFor(/reading/);
    await tarpyt.waitFor(/LOG_DROPPED lines=\d+/, { timeoutMs: 30_000 });
    const tally = () => {
      const lost = [...tarpyt.output.matchAll(/LOG_DROPPED lines=(\d+)/g)]
        .reduce((sum, [, lines]) => sum + Number(lines), 0);
      return [(tarpyt.output.match(/ (ACCEPT|CLOSE) /g) ?? []).length, lost];
    };
    await tarpyt.until(() => tally()[0] + tally()[1] >= 2 * clients, 30_000);
    const [written, lost] = tally();
    assert(lost > 0, "the stall cost lines");
    assertEquals(written + lost, 2 * clients, `${written} written, ${lost} counted as lost`);
  },
}));

/** Waits until `check()` holds, polling; fails after 30 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!await check()) {
    assert(Date.now() < deadline, "waited 30 s in vain");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
