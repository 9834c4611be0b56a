/**
 * sd_notify(3) without libsystemd: tells systemd the service is ready (`READY=1`), what
 * it is doing (`STATUS=`, shown by `systemctl status`) and that it is stopping
 * (`STOPPING=1`), as datagrams to the socket named in `NOTIFY_SOCKET`.
 *
 * Why this route, of the ones Deno offers: FFI to libsystemd's sd_notify needs
 * `--allow-ffi`, which switches Deno's permission checks off; running `systemd-notify`
 * needs `--allow-run` and is sent from the wrong PID. A Deno unix datagram socket
 * (`--unstable-net`) bound to an abstract name needs only `--allow-net`, which the
 * tarpit has anyway, plus write access to the one path systemd uses for system
 * services, `/run/systemd/notify`. An abstract `NOTIFY_SOCKET` (`@name`) needs no file
 * access at all, which is how the tests drive it.
 *
 * @module
 */

/** Sends state changes to systemd; see {@link connectNotifySocket}. */
export interface Notifier {
  /**
   * Sends one datagram of `KEY=value` lines.
   *
   * @throws when the socket refuses it (not permitted, gone)
   */
  send(state: string): Promise<void>;
  /** Closes the local socket. */
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
 * A {@link Notifier} for `NOTIFY_SOCKET`, or `undefined` when systemd did not ask for
 * notifications (no `NOTIFY_SOCKET`, as under `Type=simple` or without systemd).
 *
 * @param notifySocket the value of `NOTIFY_SOCKET`
 * @throws when the local socket cannot be made
 * @example
 * ```ts
 * import { connectNotifySocket } from "./sd_notify.ts";
 * const notifier = connectNotifySocket(Deno.env.get("NOTIFY_SOCKET"));
 * await notifier?.send("READY=1\nSTATUS=holding 0 clients");
 * ```
 */
export function connectNotifySocket(notifySocket: string | undefined): Notifier | undefined {
  if (!notifySocket) return undefined;
  const target: Deno.UnixAddr = { transport: "unixpacket", path: notifySocketPath(notifySocket) };
  // The sender needs an address of its own; an abstract one leaves no file behind, and
  // lives in the service's private network namespace.
  const local = Deno.listenDatagram({ transport: "unixpacket", path: `\0tarpyt-${Deno.pid}` });
  const encoder = new TextEncoder();
  return {
    async send(state: string): Promise<void> {
      await local.send(encoder.encode(state), target);
    },
    close(): void {
      local.close();
    },
  };
}
