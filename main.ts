/**
 * TarPyt: a network tarpit. Holds attackers' connections open by sending legal, useless
 * lines a byte at a time, never finishing anything they wait for, and never reads what
 * they send.
 *
 * Reads top to bottom: parse the command line, set up logging and signals, get the
 * listening sockets (systemd's, or `--listen`), serve them, tell systemd it is ready and
 * keep its status line fresh, and on SIGTERM or SIGINT close everything and log the
 * totals. `tarpyt systemd print` writes the unit templates instead, and `tarpyt report`
 * sums up a log read on stdin.
 *
 * Exit status: 0 after a signal, 1 when a socket cannot be used, 2 for bad usage.
 *
 * @module
 */
import {
  type Command,
  helpText,
  parseCommandLine,
  type SystemdPrintCommand,
  type TarpitConfig,
  UsageError,
} from "./src/cli/cli.ts";
import { formatDuration } from "./src/text/duration.ts";
import { escapeControl } from "./src/text/escape.ts";
import { fullCollection } from "./src/runtime/closed_handles.ts";
import { DenoTransport } from "./src/runtime/transport.ts";
import type { ClientHandle } from "./src/runtime/client_handle.ts";
import { rearmListener } from "./src/runtime/accept_loop.ts";
import { type Listener, ListenError } from "./src/runtime/listeners.ts";
import { adoptPassedSocket, bindListenAddress } from "./src/runtime/listeners.ts";
import { ListenFdsError, passedSockets } from "./src/systemd/listen_fds.ts";
import { createLogger, type Logger } from "./src/log/logger.ts";
import { logEvent, logStats, logTotals, tarpitEventLogger } from "./src/log/events.ts";
import { LogQueue } from "./src/log/log_queue.ts";
import { metricsText } from "./src/metrics/metrics.ts";
import { logLines, reportSvg, reportText, summarizeLog } from "./src/log/report.ts";
import { serveMetrics } from "./src/metrics/metrics_server.ts";
import { runtimeFlags, version } from "./src/runtime/flags.ts";
import { connectNotifySocket, type Notifier } from "./src/systemd/sd_notify.ts";
import { installedPath, unitFiles } from "./src/systemd/units.ts";
import { tarArchive } from "./src/systemd/tar.ts";
import { Tarpit } from "./src/engine/tarpit.ts";
import { type Totals, TrapStats } from "./src/stats/trap_stats.ts";

const exitUsage = 2;
const exitNoSocket = 1;

/**
 * Prints one line, `tarpyt: ...`, and exits: bad input never shows a stack trace, and
 * its control characters are escaped, so it is one line.
 */
function fail(message: string, code: number): never {
  console.error(`tarpyt: ${escapeControl(message)}`);
  Deno.exit(code);
}

function readCommand(): Command {
  try {
    return parseCommandLine(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, exitUsage);
    throw error;
  }
}

/** The name that marks a passed socket as the metrics endpoint (`FileDescriptorName=`). */
const metricsFdName = "metrics";

/**
 * The sockets to serve: every one systemd passed and every `--listen` address for the
 * tarpit; the passed socket named `metrics` and `--metrics-listen` for metrics.
 */
async function openListeners(
  config: TarpitConfig,
): Promise<{ tarpit: Listener[]; metrics: Listener[] }> {
  try {
    const passed = passedSockets({
      LISTEN_FDS: Deno.env.get("LISTEN_FDS"),
      LISTEN_PID: Deno.env.get("LISTEN_PID"),
      LISTEN_FDNAMES: Deno.env.get("LISTEN_FDNAMES"),
    }, Deno.pid);
    if (passed.length === 0 && config.listen.length === 0) {
      fail(
        "no socket to serve: start tarpyt from its systemd .socket unit " +
          "(LISTEN_FDS), or give --listen HOST:PORT (try --listen 127.0.0.1:2222)",
        exitUsage,
      );
    }
    const tarpit: Listener[] = [];
    const metrics: Listener[] = [];
    for (const socket of passed) {
      if (socket.name === metricsFdName) metrics.push(await adoptPassedSocket(socket, "metrics"));
      else tarpit.push(await adoptPassedSocket(socket));
    }
    for (const address of config.listen) tarpit.push(await bindListenAddress(address));
    if (config.metricsListen) {
      metrics.push(await bindListenAddress(config.metricsListen, "--metrics-listen"));
    }
    if (tarpit.length === 0) {
      fail("no socket to serve: every passed socket is named metrics", exitUsage);
    }
    return { tarpit, metrics };
  } catch (error) {
    if (error instanceof ListenFdsError || error instanceof ListenError) {
      fail(error.message, exitNoSocket);
    }
    throw error;
  }
}

/** The engine serving on Deno's sockets, and what its events add up to. */
interface Trap {
  readonly tarpit: Tarpit<ClientHandle, Listener["server"]>;
  readonly stats: TrapStats;
}

/** What the trap has done so far. */
function totalsOf({ tarpit, stats }: Trap): Totals {
  return stats.totals(tarpit.held());
}

/** How many of the busiest sources a STATS line names. */
const statsTopTalkers = 5;

/** What `systemctl status` shows, refreshed every {@link statusIntervalMs}. */
function statusLine(totals: Totals): string {
  return `STATUS=${totals.clientsNow} clients held now, ${totals.connects} trapped since start, ` +
    `${totals.bytesSent} bytes sent`;
}

const statusIntervalMs = 5_000;

/** Sends a state to systemd, if it asked (`NOTIFY_SOCKET`); never throws. */
type Notify = (state: string) => Promise<void>;

/**
 * The notifier for `NOTIFY_SOCKET`. A refused notification is logged once and ends
 * notifying: the tarpit goes on without it (systemd will say why, if it waits for one).
 */
function systemdNotify(log: Logger): Notify {
  const giveUp = (error: unknown): void => {
    const why = error instanceof Deno.errors.NotCapable
      ? "not permitted: the binary may write only /run/systemd/notify"
      : error instanceof Error
      ? error.message
      : String(error);
    logEvent(log, "NOTIFY_FAILED", { socket: Deno.env.get("NOTIFY_SOCKET") ?? "" }, why);
    notifier?.close();
    notifier = undefined;
  };
  let notifier: Notifier | undefined;
  try {
    notifier = connectNotifySocket(Deno.env.get("NOTIFY_SOCKET"));
  } catch (error) {
    giveUp(error);
  }
  return async (state) => {
    try {
      await notifier?.send(state);
    } catch (error) {
      giveUp(error);
    }
  };
}

/**
 * How often systemd's watchdog wants to hear that the service lives (`WatchdogSec=`):
 * half its `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises; undefined when it is off.
 */
function watchdogIntervalMs(): number | undefined {
  const usec = Number(Deno.env.get("WATCHDOG_USEC"));
  const pid = Deno.env.get("WATCHDOG_PID");
  if (!(usec > 0) || (pid !== undefined && Number(pid) !== Deno.pid)) return undefined;
  return usec / 2_000;
}

/** How often every listener is re-armed: a waiting client gets in within this. */
const heartbeatMs = 1_000;

/**
 * Tells systemd the tarpit is serving; then, every second, keeps every listener
 * accepting, pings systemd's watchdog, and keeps the status line current. The ping
 * comes from the same timer as the re-arming: a process whose event loop is stuck
 * stops pinging, and systemd restarts it.
 */
async function heartbeat(notify: Notify, trap: Trap, metrics: Listener[]): Promise<void> {
  let last = statusLine(totalsOf(trap));
  await notify(`READY=1\n${last}`);
  const watchdogMs = watchdogIntervalMs();
  let pingedAt = -Infinity, statusAt = performance.now();
  setInterval(() => {
    trap.tarpit.keepAccepting();
    for (const listener of metrics) rearmListener(listener.server);
    const now = performance.now();
    if (watchdogMs !== undefined && now - pingedAt >= watchdogMs - heartbeatMs) {
      pingedAt = now;
      void notify("WATCHDOG=1");
    }
    if (now - statusAt < statusIntervalMs) return;
    statusAt = now;
    const status = statusLine(totalsOf(trap));
    if (status !== last) void notify(last = status);
  }, heartbeatMs);
}

/** Info lines never dropped when stderr lags (see log_queue.ts): the summaries. */
const keptEvents = new Set(["START", "STATS", "TOTALS"]);

/** How long a stop waits for the last log lines to be written. */
const stopLogFlushMs = 2_000;

/**
 * Stops on SIGTERM (systemctl stop) or SIGINT (Ctrl-C); logs STATS on SIGUSR2 or SIGHUP
 * (SIGUSR1 belongs to the runtime's inspector). Listeners are added before any socket
 * is opened: Deno needs a file descriptor to add one, and may have none to spare once
 * clients hold them all.
 */
function handleSignals(log: Logger, logQueue: LogQueue, notify: Notify, trap: Trap): void {
  const stats = (): void => logStats(log, totalsOf(trap), trap.stats.talkers.top(statsTopTalkers));
  let stopping = false;
  const onStop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await notify("STOPPING=1");
    stats();
    trap.tarpit.shutdown();
    logTotals(log, totalsOf(trap));
    // A stalled log reader gets a moment, not the power to hold up the stop.
    await logQueue.flush(stopLogFlushMs);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", onStop);
  Deno.addSignalListener("SIGINT", onStop);
  Deno.addSignalListener("SIGUSR2", stats);
  Deno.addSignalListener("SIGHUP", stats);
}

async function main(): Promise<void> {
  const command = readCommand();
  if (command.kind === "help") {
    console.log(helpText());
    return;
  }
  if (command.kind === "systemd-print") {
    await printUnits(command);
    return;
  }
  if (command.kind === "report") {
    const report = await summarizeLog(logLines(Deno.stdin.readable));
    await writeAll(new TextEncoder().encode(command.svg ? reportSvg(report) : reportText(report)));
    return;
  }
  if (command.kind === "version") {
    console.log(
      `tarpyt ${version}\ndeno ${Deno.version.deno} (v8 ${Deno.version.v8}, ${Deno.build.target}` +
        `${Deno.build.standalone ? ", compiled" : ""})`,
    );
    console.log(`flags ${runtimeFlags.join(" ")}`);
    return;
  }
  const { config } = command;
  const logQueue = new LogQueue();
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    journal: Deno.env.has("JOURNAL_STREAM"),
    write: (line, level, event) =>
      logQueue.write(line, keptEvents.has(event) || level === "warning" || level === "error"),
  });
  logQueue.onRecovered = (lost) =>
    logEvent(log, "LOG_DROPPED", { lines: lost }, "stderr could not keep up");
  const stats = new TrapStats();
  const logTarpitEvent = tarpitEventLogger(log, config.maxClients);
  const tarpit = new Tarpit({
    ...config,
    transport: new DenoTransport(fullCollection()),
    onEvent: (event) => {
      stats.record(event);
      logTarpitEvent(event);
    },
  });
  const trap: Trap = { tarpit, stats };
  const notify = systemdNotify(log);
  handleSignals(log, logQueue, notify, trap);

  const listeners = await openListeners(config);
  for (const listener of listeners.tarpit) {
    tarpit.serve(listener.server);
    logEvent(log, "LISTEN", { ...listener.origin, address: listener.address });
  }
  for (const listener of listeners.metrics) {
    serveMetrics(
      listener.server,
      () =>
        metricsText(
          {
            ports: stats.ports(tarpit.held()),
            histogram: stats.histogram,
            maxClients: config.maxClients,
            protocol: config.protocol.name,
          },
          version,
          {
            ...Deno.memoryUsage(),
            droppedLogLines: logQueue.dropped,
          },
        ),
    );
    logEvent(log, "METRICS", { ...listener.origin, address: listener.address });
  }
  logEvent(log, "START", {
    version,
    protocol: config.protocol.name,
    "first-delay": formatDuration(config.firstDelayMs),
    delay: formatDuration(config.delayMs),
    jitter: formatDuration(config.jitterMs),
    "piece-size": config.pieceSize,
    "max-clients": config.maxClients,
    "max-per-ip": config.maxPerIp,
    "max-line-length": config.maxLineLength,
    "max-lifetime": formatDuration(config.maxLifetimeMs),
  });
  await heartbeat(notify, trap, listeners.metrics);
}

/**
 * Writes the unit templates to stdout as a tar archive: the binary has no permission to
 * write files, and `tar -x` needs none of ours. `ExecStart=` names this binary when it is
 * the compiled one, else where the README installs it.
 */
async function printUnits(command: SystemdPrintCommand): Promise<void> {
  if (Deno.stdout.isTerminal()) {
    fail(
      "systemd print writes a tar archive; pipe it: " +
        "tarpyt systemd print | sudo tar -x -v -C /etc/systemd/system  (or | tar -t to list it)",
      exitUsage,
    );
  }
  const execPath = command.execPath ?? (Deno.build.standalone ? Deno.execPath() : installedPath);
  const units = unitFiles(command.protocols, execPath);
  await writeAll(tarArchive(units, Date.now() / 1000));
}

async function writeAll(bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    // A bug, not bad input: still one line, with what is known.
    fail(`internal error: ${error instanceof Error ? error.message : String(error)}`, 70);
  }
}
