/**
 * pop3: a greeting dripped one byte at a time.
 *
 * RFC 1939 4: the server greets with one line, `+OK` and text, and a POP3 response may be
 * up to 512 octets with its CRLF (RFC 2449 4). There is no multiline greeting to repeat,
 * so this sends `+OK ` and then one character a tick until the line is 512 octets long,
 * which at 10 s a byte is 85 minutes. Then it sends nothing: the client has its greeting,
 * sends a command, and waits for a reply that never comes.
 *
 * @module
 */
import { printableAscii, type Protocol, randomText } from "./protocol.ts";

/** RFC 2449 4: the longest response line, CRLF included. */
export const pop3LongestLine = 512;

/**
 * The pop3 tarpit's ticks: `+OK `, then one character each, then CRLF, then silence.
 *
 * @example
 * ```ts
 * import { pop3DrippedGreeting } from "./pop3.ts";
 * const ticks = pop3DrippedGreeting();
 * ticks.next().value; // "+OK "
 * ticks.next().value?.length; // 1
 * ```
 */
export function* pop3DrippedGreeting(): Generator<string, void, undefined> {
  const start = "+OK ";
  yield start;
  for (let sent = start.length; sent < pop3LongestLine - 2; sent++) {
    yield randomText(1, printableAscii);
  }
  yield "\r\n";
  for (;;) yield "";
}

/** The pop3 protocol for the registry. */
export const pop3: Protocol = {
  name: "pop3",
  summary: "a 512-octet +OK greeting, one byte a tick, then silence (RFC 1939 4)",
  minLineLength: 4,
  lines: pop3DrippedGreeting,
};
