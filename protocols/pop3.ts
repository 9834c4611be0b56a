/**
 * pop3: a greeting that stops just short of its end.
 *
 * RFC 1939 4: the server greets with one line, `+OK` and text, and a POP3 response may be
 * up to 512 octets with its CRLF (RFC 2449 4). So this sends `+OK ` and then text a byte
 * at a time up to 510 octets, and never the CRLF: the client is still reading its
 * greeting. Then there is nothing more it may be sent, and it is closed a minute later
 * (the engine's bound on silence, `longestSilenceMs` in protocol.ts).
 *
 * Verdicts: the end of the greeting's line, after which a client sends USER; the `+OK` or
 * `-ERR` replies to USER and PASS. None is ever sent. `+OK ` goes in one piece: hydra
 * wants the first byte it reads to be a `+`.
 *
 * @module
 */
import {
  dripAlternatives,
  headEnd,
  type Protocol,
  randomText,
  serverFirstPacing,
  verdictFreeText,
} from "./protocol.ts";

/** RFC 2449 4: the longest response line, CRLF included. */
const pop3LongestLine = 512;

/** The greeting's start, sent in one piece. */
const pop3GreetingStart = "+OK ";

/**
 * The pop3 tarpit's one line: {@link pop3GreetingStart}, then text to 510 octets, no CRLF.
 */
function* pop3UnendedGreeting(): Generator<string, void, undefined> {
  const text = pop3LongestLine - "\r\n".length - pop3GreetingStart.length;
  yield `${pop3GreetingStart}${headEnd}${randomText(text, verdictFreeText)}`;
}

/** The pop3 protocol for the registry. */
export const pop3: Protocol = {
  name: "pop3",
  summary: "a +OK greeting dripped to 510 octets, never ended (RFC 1939 4, RFC 2449 4)",
  verdicts: [/\r\n/, /[.-]/], // a line starting "." ends a multiline reply, "-" starts -ERR
  minLineLength: 1,
  pacing: serverFirstPacing,
  alternatives: dripAlternatives(serverFirstPacing),
  lines: pop3UnendedGreeting,
};
