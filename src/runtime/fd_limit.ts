/**
 * Noticing that the process is out of file descriptors, so that the tarpit can say so
 * once per interval and take clients again as others leave.
 *
 * Deno's native accept swallows `EMFILE`: nothing reaches JavaScript, and the listener
 * is not polled again until it is re-armed (tests/system/file_limit_test.ts and abuse_test.ts
 * show both). Nor can the limit be read: Deno asks for `--allow-all` before it reads
 * anything under `/proc/self`. So each heartbeat the tarpit tries to open `/dev/null`; when
 * that fails, it logs FILE_LIMIT; and it re-arms its listeners anyway, then and whenever a
 * client leaves (Tarpit.keepAccepting).
 *
 * @module
 */

/**
 * Descriptors the service units allow beyond their client count, so that clients alone
 * never exhaust them: 64 for the runtime's own (epoll, eventfd, stdio, the listening and
 * notify sockets), 128 for the connections the runtime accepts in one batch before the
 * tarpit admits or refuses them, and the metrics connections (`hardLimit` in
 * metrics_server.ts, checked by tests/system/systemd_units_test.ts).
 */
export const spareFds: number = 64 + 128 + 64;

/**
 * Whether this process can open one more file now. Opens and closes `/dev/null`, which
 * needs `--allow-read=/dev/null`; any error other than running out of descriptors
 * (`EMFILE`, or `ENFILE` for the whole system) counts as yes.
 *
 * @example
 * ```ts
 * import { canOpenAnotherFile } from "./fd_limit.ts";
 * if (!canOpenAnotherFile()) console.warn("out of file descriptors");
 * ```
 */
export function canOpenAnotherFile(): boolean {
  try {
    Deno.openSync("/dev/null").close();
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code !== "EMFILE" && code !== "ENFILE";
  }
}
