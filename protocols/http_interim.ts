/**
 * http-1xx: interim `100 Continue` responses, one after another, never a final one.
 *
 * RFC 9110 15.2: "A client MUST be able to parse one or more 1xx responses received
 * prior to a final response, even if the client does not expect one." Each interim
 * response is a status line, up to three header fields and the empty line; then the
 * next begins. `100` is the one code every client skips: Python's http.client, for one,
 * loops over 100 but takes any other 1xx as final.
 *
 * Verdicts: a final status line (2xx and 3xx read as a login, 401 and 403 as a refusal),
 * never sent. Interim responses decide nothing, and arrive a byte at a time under every
 * pacing learning gives (`dripAlternatives`): hydra looks for `HTTP/1.` in what one read
 * returns, and medusa takes a whole status line for a login.
 *
 * @module
 */
import {
  dripAlternatives,
  type LineOptions,
  type Protocol,
  randomInt,
  serverFirstPacing,
} from "./protocol.ts";
import { httpContinueLine, httpHeaderLine } from "./http.ts";

/**
 * The http-1xx tarpit's lines: `100 Continue` responses of 0 to 3 fields, forever.
 */
function* httpEndlessContinueLines(
  { maxLineLength }: LineOptions,
): Generator<string, void, undefined> {
  for (;;) {
    yield httpContinueLine;
    // Few fields each: http.client allows 100 per response, interim ones included.
    for (let fields = randomInt(0, 3); fields > 0; fields--) yield httpHeaderLine(maxLineLength);
    yield "\r\n";
  }
}

/** The http-1xx protocol for the registry. */
export const httpInterim: Protocol = {
  name: "http-1xx",
  summary: "endless interim 100 Continue responses, never a final one (RFC 9110 15.2)",
  verdicts: [/HTTP\/1\.[01] [2-5]\d\d/],
  minLineLength: httpContinueLine.length,
  pacing: serverFirstPacing,
  alternatives: dripAlternatives(serverFirstPacing),
  lines: httpEndlessContinueLines,
};
