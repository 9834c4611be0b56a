/**
 * TarPyt: a network tarpit. Holds attackers' connections open by sending one legal,
 * useless line every few seconds, and never reads what they send.
 *
 * Reads top to bottom: parse the command line, set up logging and signals, get the
 * listening sockets (systemd's, or `--listen`), serve them, tell systemd it is ready and
 * keep its status line fresh, and on SIGTERM or SIGINT close everything and log the
 * totals. `tarpyt systemd print` writes the unit templates instead.
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
} from "./src/cli.ts";
import { formatDuration } from "./src/duration.ts";
import { type Listener, ListenError } from "./src/listeners.ts";
import { adoptPassedSocket, bindListenAddress } from "./src/listeners.ts";
import { ListenFdsError, passedSockets } from "./src/listen_fds.ts";
import { createLogger, type Logger } from "./src/logger.ts";
import { runtimeFlags, version } from "./src/runtime_flags.ts";
import { connectNotifySocket, type Notifier } from "./src/sd_notify.ts";
import { installedPath, unitFiles } from "./src/systemd_units.ts";
import { tarArchive } from "./src/tar.ts";
import { Tarpit, type TarpitTotals } from "./src/tarpit.ts";

const exitUsage = 2;
const exitNoSocket = 1;

/** Prints one line, `tarpyt: ...`, and exits: bad input never shows a stack trace. */
function fail(message: string, code: number): never {
  console.error(`tarpyt: ${message}`);
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

/** The sockets to serve: every one systemd passed, and every `--listen` address. */
async function openListeners(config: TarpitConfig): Promise<Listener[]> {
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
    const listeners: Listener[] = [];
    for (const socket of passed) listeners.push(await adoptPassedSocket(socket));
    for (const address of config.listen) listeners.push(await bindListenAddress(address));
    return listeners;
  } catch (error) {
    if (error instanceof ListenFdsError || error instanceof ListenError) {
      fail(error.message, exitNoSocket);
    }
    throw error;
  }
}

/** endlessh's summary line, so its log parsers read ours. */
function totalsLine(totals: TarpitTotals): string {
  return `TOTALS connects=${totals.connects} seconds=${(totals.trappedMs / 1000).toFixed(3)} ` +
    `bytes=${totals.bytesSent}`;
}

/** What `systemctl status` shows, refreshed every {@link statusIntervalMs}. */
function statusLine(totals: TarpitTotals): string {
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
    log.warning(`NOTIFY_SOCKET=${Deno.env.get("NOTIFY_SOCKET")}: ${why}; notifying no more`);
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

/** Tells systemd the tarpit is serving, then keeps the status line current. */
async function reportReady(notify: Notify, tarpit: Tarpit): Promise<void> {
  let last = statusLine(tarpit.totals());
  await notify(`READY=1\n${last}`);
  setInterval(() => {
    const status = statusLine(tarpit.totals());
    if (status !== last) void notify(last = status);
  }, statusIntervalMs);
}

/**
 * Stops on SIGTERM (systemctl stop) or SIGINT (Ctrl-C). Listeners are added before any
 * socket is opened: Deno needs a file descriptor to add one, and may have none to spare
 * once clients hold them all.
 */
function stopOnSignals(log: Logger, notify: Notify, tarpit: Tarpit): void {
  let stopping = false;
  const onSignal = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await notify("STOPPING=1");
    const totals = await tarpit.shutdown();
    log.info(totalsLine(totals));
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
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
  if (command.kind === "version") {
    console.log(
      `tarpyt ${version}\ndeno ${Deno.version.deno} (v8 ${Deno.version.v8}, ${Deno.build.target}` +
        `${Deno.build.standalone ? ", compiled" : ""})`,
    );
    console.log(`flags ${runtimeFlags.join(" ")}`);
    return;
  }
  const { config } = command;
  const log = createLogger({ level: config.logLevel, journal: Deno.env.has("JOURNAL_STREAM") });
  const tarpit = new Tarpit({ ...config, log });
  const notify = systemdNotify(log);
  stopOnSignals(log, notify, tarpit);

  const listeners = await openListeners(config);
  for (const listener of listeners) {
    tarpit.serve(listener.server);
    log.info(`LISTEN ${listener.origin} address=${listener.address}`);
  }
  log.info(
    `START version=${version} protocol=${config.protocol.name} ` +
      `delay=${formatDuration(config.delayMs)} jitter=${formatDuration(config.jitterMs)} ` +
      `max-clients=${config.maxClients} max-line-length=${config.maxLineLength} ` +
      `max-lifetime=${formatDuration(config.maxLifetimeMs)}`,
  );
  await reportReady(notify, tarpit);
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
  const archive = tarArchive(units, Date.now() / 1000);
  for (let written = 0; written < archive.length;) {
    written += await Deno.stdout.write(archive.subarray(written));
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
