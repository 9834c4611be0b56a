/**
 * `tarpyt [options]`: the service on Deno's ports. Sets up the log on stderr, gets the
 * listening sockets (systemd's, or `--listen`), hands them and the runtime's transport,
 * clock and notify socket to the service (src/service/service.ts), serves the metrics,
 * and turns signals into the service's stats and stop.
 *
 * Signals: SIGTERM (`systemctl stop`) and SIGINT (Ctrl-C) stop, exit 0; SIGUSR2 and SIGHUP
 * log STATS. SIGUSR1 belongs to the runtime's inspector. Listeners are added before any
 * socket is opened: Deno needs a file descriptor to add one, and may have none to spare
 * once clients hold them all.
 *
 * @module
 */
import type { TarpitConfig } from "../cli/cli.ts";
import { realTime } from "../engine/pacing_clock.ts";
import { createLogger } from "../log/logger.ts";
import { LogQueue } from "../log/log_queue.ts";
import { logEvent, queuedLines } from "../log/vocabulary.ts";
import { serveMetrics } from "../metrics/metrics_server.ts";
import { rearmListener } from "../runtime/accept_loop.ts";
import { fullCollection, memoryReducingCollection } from "../runtime/closed_handles.ts";
import { version } from "../runtime/flags.ts";
import {
  adoptPassedSocket,
  bindListenAddress,
  type Listener,
  ListenError,
} from "../runtime/listeners.ts";
import { DenoTransport } from "../runtime/transport.ts";
import { Learner } from "../learn/learner.ts";
import { realTicker, TarpitService } from "../service/service.ts";
import { ListenFdsError, passedSockets } from "../systemd/listen_fds.ts";
import { notifySocketTo } from "../systemd/sd_notify.ts";
import { formatDuration } from "../text/duration.ts";
import { exitNoSocket, exitUsage, fail } from "./fail.ts";

/** The name that marks a passed socket as the metrics endpoint (`FileDescriptorName=`). */
const metricsFdName = "metrics";

/** Runs the tarpit until a signal stops it. */
export async function run(config: TarpitConfig): Promise<void> {
  const giveBackMemory = memoryReducingCollection();
  const logQueue = new LogQueue(undefined, logBurstBytes(config.maxClients));
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    journal: Deno.env.has("JOURNAL_STREAM"),
    write: queuedLines(logQueue),
    hostname: Deno.hostname(),
  });
  logQueue.onRecovered = (lost, cause) =>
    logEvent(log, "LOG_DROPPED", { lines: lost, cause }, "stderr could not keep up");
  const notifySocket = Deno.env.get("NOTIFY_SOCKET");
  const listeners = { metrics: [] as Listener[] };
  const profiles = [
    { ...config.pacing, name: "default" },
    ...(config.learn ? config.protocol.alternatives : []),
  ];
  const learner = new Learner({
    protocol: config.protocol.name,
    profiles,
    learn: config.learn,
  });
  const service = new TarpitService({
    protocol: config.protocol,
    profiles,
    maxClients: config.maxClients,
    maxPerIp: config.maxPerIp,
    banner: config.banner,
    maxLifetimeMs: config.maxLifetimeMs,
    version,
    pacingFields: {
      pacing: config.learn ? "learn" : "fixed",
      "first-delay": formatDuration(config.pacing.firstDelayMs),
      delay: formatDuration(config.pacing.delayMs),
      jitter: formatDuration(config.pacing.jitterMs),
      "piece-size": config.pacing.pieceSize,
      "max-line-length": config.pacing.maxLineLength,
    },
  }, {
    transport: new DenoTransport(fullCollection(), giveBackMemory),
    clock: realTime(),
    ticker: realTicker,
    log,
    logSink: logQueue,
    notifySocket: notifySocket ? () => notifySocketTo(notifySocket) : undefined,
    notifySocketName: notifySocket,
    watchdogMs: watchdogMs(),
    pacer: learner,
    families: () => learner.families(),
    rearmListeners: () => {
      for (const listener of listeners.metrics) rearmListener(listener.server);
    },
    memory: () => Deno.memoryUsage(),
  });
  const stop = async (): Promise<void> => {
    await service.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGUSR2", () => service.stats());
  Deno.addSignalListener("SIGHUP", () => service.stats());

  const opened = await openListeners(config);
  listeners.metrics = opened.metrics;
  for (const listener of opened.tarpit) {
    service.serve(listener.server, { ...listener.origin, address: listener.address });
  }
  for (const listener of opened.metrics) {
    serveMetrics(listener.server, () => service.metrics());
    service.servingMetrics({ ...listener.origin, address: listener.address });
  }
  service.start();
  // Starting is a burst of its own (modules compiled, flags read, listeners opened), whose
  // garbage would otherwise keep its pages for as long as the tarpit runs.
  setTimeout(giveBackMemory, 0);
}

/**
 * How many bytes of log lines may wait while stderr keeps up: a CLOSE line for every
 * client the tarpit can hold, as a stop writes them all at once, with room to spare.
 */
function logBurstBytes(maxClients: number): number {
  return Math.max(1024 * 1024, maxClients * 256);
}

/**
 * systemd's watchdog interval (`WatchdogSec=`), from `WATCHDOG_USEC`, in ms; undefined
 * when it is off, or meant for another process (`WATCHDOG_PID`).
 */
function watchdogMs(): number | undefined {
  const usec = Number(Deno.env.get("WATCHDOG_USEC"));
  const pid = Deno.env.get("WATCHDOG_PID");
  if (!(usec > 0) || (pid !== undefined && Number(pid) !== Deno.pid)) return undefined;
  return usec / 1_000;
}

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
