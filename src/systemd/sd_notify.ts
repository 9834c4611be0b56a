/**
 * sd_notify(3) without libsystemd: tells systemd the service is ready (`READY=1`), what
 * it is doing (`STATUS=`, shown by `systemctl status`), that it lives (`WATCHDOG=1`) and
 * that it is stopping (`STOPPING=1`), as datagrams to the socket named in `NOTIFY_SOCKET`.
 *
 * Why this route, of the ones Deno offers: FFI to libsystemd's sd_notify needs
 * `--allow-ffi`, which switches Deno's permission checks off; running `systemd-notify`
 * needs `--allow-run` and is sent from the wrong PID. A Deno unix datagram socket
 * (`--unstable-net`) bound to an abstract name needs only `--allow-net`, which the
 * tarpit has anyway, plus write access to the one path systemd uses for system
 * services, `/run/systemd/notify`. An abstract `NOTIFY_SOCKET` (`@name`) needs no file
 * access at all, which is how the tests drive it.
 *
 * The policy is libsystemd's, which sends without waiting and drops a message the socket
 * has no room for ({@link Notifier}): nothing the service does ever waits on systemd, and
 * a stalled PID 1 (a long `daemon-reload`, or a local user filling the socket) costs at
 * most the messages sent while it stalled, never the later ones.
 *
 * @module
 */

/** A datagram socket to one address: the runtime's, or a test's. */
export interface DatagramSocket {
  /** Sends one datagram; settles when the kernel took it, or with the error. */
  send(bytes: Uint8Array): Promise<void>;
  /** Closes the socket; a send under way is abandoned. */
  close(): void;
}

/**
 * The `sockaddr_un` path for a `NOTIFY_SOCKET` value: a leading `@` names an abstract
 * socket, which the kernel spells with a leading NUL.
 *
 * @example
 * ```ts
 * import { notifySocketPath } from "./sd_notify.ts";
 * notifySocketPath("@tarpyt-test"); // "\0tarpyt-test"
 * notifySocketPath("/run/systemd/notify"); // "/run/systemd/notify"
 * ```
 */
export function notifySocketPath(notifySocket: string): string {
  return notifySocket.startsWith("@") ? `\0${notifySocket.slice(1)}` : notifySocket;
}

/**
 * A socket that sends to `notifySocket` from an abstract address of its own (which
 * leaves no file behind, and lives in the service's private network namespace).
 *
 * @throws when the local socket cannot be made
 * @example
 * ```ts ignore
 * const socket = notifySocketTo("/run/systemd/notify");
 * await socket.send(new TextEncoder().encode("READY=1"));
 * ```
 */
export function notifySocketTo(notifySocket: string): DatagramSocket {
  const target: Deno.UnixAddr = { transport: "unixpacket", path: notifySocketPath(notifySocket) };
  // A socket made again after a failure may find the last one's name not yet free: each
  // gets one of its own.
  const local = Deno.listenDatagram({
    transport: "unixpacket",
    path: `\0tarpyt-${Deno.pid}-${crypto.randomUUID()}`,
  });
  return {
    async send(bytes: Uint8Array): Promise<void> {
      await local.send(bytes, target);
    },
    close(): void {
      local.close();
    },
  };
}

/**
 * Sends states to systemd without ever waiting: `send()` returns at once. While a
 * datagram is under way (systemd's queue is full: a stalled PID 1, or a local user
 * filling it), later states are merged into the next one, the newest value of each key
 * winning, which goes out as soon as the kernel takes the one before. A failure is
 * reported, closes the socket, and changes nothing for the next state, which opens a new
 * one.
 *
 * @example
 * ```ts ignore
 * const notifier = new Notifier(() => notifySocketTo(socketPath), (error) => console.warn(error));
 * notifier.send("READY=1\nSTATUS=serving");
 * notifier.send("WATCHDOG=1");
 * await notifier.flush(100); // before exiting
 * ```
 */
export class Notifier {
  readonly #open: () => DatagramSocket;
  readonly #failed: (error: unknown) => void;
  #socket: DatagramSocket | undefined;
  /** The state under way. */
  #sending: Map<string, string> | undefined;
  /** States merged while one was under way. */
  #waiting: Map<string, string> | undefined;
  #settled: (() => void)[] = [];

  /**
   * A notifier that sends on sockets `open` makes.
   *
   * @param open makes a socket to systemd's; called again after a failure
   * @param failed hears each failure, to report it
   */
  constructor(open: () => DatagramSocket, failed: (error: unknown) => void) {
    this.#open = open;
    this.#failed = failed;
  }

  /** Sends `state` (`KEY=value` lines) as soon as the socket allows; never waits. */
  send(state: string): void {
    const lines = parseState(state);
    if (this.#sending === undefined) this.#start(lines);
    else this.#waiting = merge(this.#waiting, lines);
  }

  /** Waits until nothing is under way, or `ms`, whichever is first. */
  flush(ms: number): Promise<void> {
    if (this.#sending === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#settled.push(done);
    });
  }

  #start(lines: Map<string, string>): void {
    let socket: DatagramSocket;
    try {
      socket = this.#socket ??= this.#open();
    } catch (error) {
      this.#failed(error);
      return this.#finish();
    }
    this.#sending = lines;
    const text = [...lines].map(([key, value]) => `${key}=${value}`).join("\n");
    socket.send(new TextEncoder().encode(text)).then(
      () => this.#next(),
      (error) => {
        this.#failed(error);
        this.#closeSocket();
        this.#next();
      },
    );
  }

  #next(): void {
    this.#sending = undefined;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting !== undefined) this.#start(waiting);
    else this.#finish();
  }

  #finish(): void {
    if (this.#sending !== undefined) return;
    for (const done of this.#settled.splice(0)) done();
  }

  #closeSocket(): void {
    try {
      this.#socket?.close();
    } catch {
      // already closed
    }
    this.#socket = undefined;
  }
}

function parseState(state: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of state.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) lines.set(line.slice(0, at), line.slice(at + 1));
  }
  return lines;
}

/** `newer`'s lines over `older`'s: the newest value of each key. */
function merge(
  older: Map<string, string> | undefined,
  newer: Map<string, string>,
): Map<string, string> {
  const merged = new Map(older);
  for (const [key, value] of newer) merged.set(key, value);
  return merged;
}
