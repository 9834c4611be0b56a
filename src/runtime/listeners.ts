/**
 * Opening listening sockets: adopting the ones systemd passed, or binding `--listen`.
 *
 * Passed fds go through `node:net`'s `server.listen({ fd })`, which adopts the socket
 * as it is. `Deno.listen` cannot: it ignores `fd` and binds a new socket on a random
 * port (denoland/deno#14006). Adopting needs no `--allow-net`.
 *
 * @module
 */
import { createServer, type Server } from "node:net";
import type { PassedSocket } from "../systemd/listen_fds.ts";
import type { LogFields } from "../log/logger.ts";
import type { ListenAddress } from "../cli/flags.ts";

/**
 * How many connections the kernel queues for an accept, on a socket `--listen` binds and
 * in the units' `Backlog=`: systemd's own default and what endlessh asks for (it passes
 * `INT_MAX`), both capped by the kernel at `net.core.somaxconn`. A burst of connections
 * then waits for its accept instead of having its SYNs dropped and retried a second later,
 * and a full tarpit leaves that many more waiting in the kernel. Node's default, 511, is
 * outrun by a scan storm such as `deno task bench --only storm` sends.
 */
export const listenBacklog = 4096;

/** A listening socket and how to name it in logs. */
export interface Listener {
  /** The listening server. */
  readonly server: Server;
  /** `{ fd: 3, name: "tarpyt-ssh@22.socket" }` or `{ from: "--listen" }`. */
  readonly origin: LogFields;
  /** `127.0.0.1:2222`, `[::]:22` or a unix socket path, as the kernel reports it. */
  readonly address: string;
}

/** A socket could not be opened; the message says which and why. */
export class ListenError extends Error {
  /** The error's name, as stack traces and tests see it. */
  override name = "ListenError";
}

/**
 * Adopts a socket systemd passed, for the tarpit (TCP only) or for the metrics (TCP or
 * unix).
 *
 * @throws {ListenError} when the fd is not a stream socket, or is a unix socket for the
 * tarpit
 * @example
 * ```ts
 * import { adoptPassedSocket } from "./listeners.ts";
 * const listener = await adoptPassedSocket({ fd: 3, name: "tarpyt-ssh@22.socket" });
 * ```
 */
export async function adoptPassedSocket(
  passed: PassedSocket,
  use: "tarpit" | "metrics" = "tarpit",
): Promise<Listener> {
  const origin = { fd: passed.fd, name: passed.name };
  let server: Server;
  try {
    server = await listening((server) => server.listen({ fd: passed.fd }));
  } catch (error) {
    const code = errorCode(error);
    const what = code === "ENOTSOCK"
      ? "is not a socket"
      : code === "EINVAL"
      ? "is not a stream socket that can listen (a file, or a UDP socket?)"
      : `cannot be listened on (${code ?? String(error)})`;
    throw new ListenError(
      `passed fd ${passed.fd} (${passed.name}) ${what}; a tarpyt .socket unit needs ` +
        `ListenStream= sockets, and systemd-socket-activate needs -l ADDRESS`,
    );
  }
  const address = server.address();
  if (use === "tarpit" && (typeof address !== "object" || address === null)) {
    // A unix socket's clients have no address to log or limit: serve TCP only.
    server.close();
    throw new ListenError(
      `passed fd ${passed.fd} (${passed.name}) is a unix socket; the tarpit serves TCP: ` +
        `use ListenStream=PORT or ADDRESS:PORT (a unix socket may serve the metrics)`,
    );
  }
  return { server, origin, address: formatAddress(server) };
}

/**
 * Binds and listens on `--listen HOST:PORT` (or the address of another flag, `flag`).
 *
 * @throws {ListenError} when the address cannot be bound
 * @example
 * ```ts
 * import { bindListenAddress } from "./listeners.ts";
 * const listener = await bindListenAddress({ host: "127.0.0.1", port: 2222 });
 * ```
 */
export async function bindListenAddress(
  address: ListenAddress,
  flag = "--listen",
): Promise<Listener> {
  const text = address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
  try {
    const server = await listening((server) =>
      server.listen({
        host: address.host,
        port: address.port,
        exclusive: true,
        backlog: listenBacklog,
      })
    );
    return { server, origin: { from: flag }, address: formatAddress(server) };
  } catch (error) {
    const code = errorCode(error);
    const why = code === "EADDRINUSE"
      ? "the address is already in use"
      : code === "EACCES"
      ? "ports below 1024 need privileges; let systemd bind them (tarpyt-<protocol>@.socket)"
      : code === "EADDRNOTAVAIL" || code === "EINVAL"
      ? "no interface has that address"
      : error instanceof Deno.errors.NotCapable
      ? "binding is not permitted (run with --allow-net)"
      : code ?? String(error);
    throw new ListenError(`${flag} ${text}: cannot listen: ${why}`);
  }
}

function listening(start: (server: Server) => void): Promise<Server> {
  // pauseOnConnect is set for completeness: accept_loop.ts takes over accepting and
  // creates paused sockets itself.
  const server = createServer({ pauseOnConnect: true });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      resolve(server);
    });
    try {
      start(server);
    } catch (error) {
      reject(error);
    }
  });
}

function formatAddress(server: Server): string {
  const address = server.address();
  // node:net names no adopted unix socket's path: all that is known is its kind.
  if (address === null) return "unix";
  if (typeof address === "string") return address;
  return address.family === "IPv6"
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    return String(error.code);
  }
  return undefined;
}
