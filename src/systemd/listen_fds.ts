/**
 * The sockets systemd passes, read from the environment as sd_listen_fds(3) specifies:
 * `LISTEN_FDS` sockets from fd 3 on, meant for the process whose pid is `LISTEN_PID`,
 * named by the colon-separated `LISTEN_FDNAMES` (`FileDescriptorName=` in the unit).
 *
 * Where sd_listen_fds() quietly returns 0 for variables that do not fit, this throws: a
 * tarpit started with sockets that are not its own would otherwise serve nothing, or
 * serve whatever happens to sit at fd 3.
 *
 * @module
 */

/** The first passed fd: SD_LISTEN_FDS_START. */
const firstListenFd = 3;

/** One socket systemd passed. */
export interface PassedSocket {
  /** Its descriptor: 3 for the first. */
  readonly fd: number;
  /** Its `FileDescriptorName=`; systemd's default is the socket unit's name. */
  readonly name: string;
}

/** The `LISTEN_*` variables do not describe sockets for this process. */
export class ListenFdsError extends Error {
  /** The error's name, as stack traces and tests see it. */
  override name = "ListenFdsError";
}

/** The variables sd_listen_fds(3) reads. */
export interface ListenEnv {
  /** How many sockets were passed. */
  readonly LISTEN_FDS?: string;
  /** The process they were passed to. */
  readonly LISTEN_PID?: string;
  /** Their names, separated by colons (`FileDescriptorName=`). */
  readonly LISTEN_FDNAMES?: string;
}

/**
 * The sockets passed to process `pid`, or none when `LISTEN_FDS` is unset.
 *
 * @throws {ListenFdsError} when the variables are malformed or name another pid
 * @example
 * ```ts
 * import { passedSockets } from "./listen_fds.ts";
 * passedSockets({ LISTEN_FDS: "2", LISTEN_PID: "42", LISTEN_FDNAMES: "a:b" }, 42);
 * // [{ fd: 3, name: "a" }, { fd: 4, name: "b" }]
 * ```
 */
export function passedSockets(env: ListenEnv, pid: number): PassedSocket[] {
  const { LISTEN_FDS: fds, LISTEN_PID: listenPid, LISTEN_FDNAMES: fdNames } = env;
  if (fds === undefined) return [];
  const howToRun = "start tarpyt from its systemd socket unit, with " +
    "systemd-socket-activate, or with --listen HOST:PORT";
  if (!/^[1-9]\d{0,4}$/.test(fds)) {
    throw new ListenFdsError(`LISTEN_FDS="${fds}" is not a count of sockets; ${howToRun}`);
  }
  if (listenPid === undefined || !/^\d+$/.test(listenPid)) {
    throw new ListenFdsError(
      `LISTEN_FDS is set but LISTEN_PID="${listenPid ?? ""}" is not a pid; ${howToRun}`,
    );
  }
  if (Number(listenPid) !== pid) {
    throw new ListenFdsError(
      `the sockets in LISTEN_FDS are for pid ${listenPid}, not this process (pid ${pid}): ` +
        `a wrapper forked instead of exec'ing tarpyt; exec it, or ${howToRun}`,
    );
  }
  const count = Number(fds);
  const names = fdNameList(fdNames, count);
  return Array.from({ length: count }, (_, i) => ({
    fd: firstListenFd + i,
    name: names[i] || "unknown",
  }));
}

/**
 * The names in `LISTEN_FDNAMES`. They only label log lines, so a list that does not fit
 * is no error: systemd names a socket after its unit by default, and an address instance
 * such as `tarpyt-ssh@127.0.0.1:2222.socket` has a colon of its own. One socket takes
 * the whole value; a count that does not match leaves the sockets unnamed.
 */
function fdNameList(fdNames: string | undefined, count: number): string[] {
  if (fdNames === undefined) return [];
  if (count === 1) return [fdNames];
  const names = fdNames.split(":");
  return names.length === count ? names : [];
}
