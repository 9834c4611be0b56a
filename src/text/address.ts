/**
 * Client addresses as people and log parsers expect them.
 *
 * @module
 */

/**
 * An IPv4 peer of a dual-stack socket (systemd's `ListenStream=22` listens on `[::]:22`)
 * is reported as `::ffff:a.b.c.d`; it is the host `a.b.c.d`, and limits, logs and
 * metrics must count it as such, as endlessh writes it.
 *
 * @example
 * ```ts
 * import { plainAddress } from "./address.ts";
 * plainAddress("::ffff:203.0.113.7"); // "203.0.113.7"
 * plainAddress("2001:db8::1"); // "2001:db8::1"
 * ```
 */
export function plainAddress(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}
