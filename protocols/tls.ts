/**
 * tls: a server that begins its reply to the ClientHello and never finishes a record.
 *
 * A TLS client speaks first, its ClientHello, and waits for the server's first flight;
 * TarPyt does not read the ClientHello, as it reads nothing. Every message travels in
 * records: a 5-byte header, whose last two bytes give the length of what follows, up to
 * 2^14 bytes (RFC 8446 5.1, RFC 5246 6.2.1), and a client handles a record only once all
 * of it has come. So this sends the header of a handshake record of 2^14 bytes, then its
 * bytes a tick at a time, all but the last: at the default pacing the record would take
 * nine hours to complete, and it never does. Then there is nothing more to send, and the
 * client is closed a minute later (the engine's bound on silence, `longestSilenceMs` in
 * protocol.ts).
 *
 * The record holds HelloRequest messages (RFC 5246 7.4.1.1: type 0, empty), which a TLS
 * 1.2 client "will ignore ... if the client is currently negotiating a session", so that
 * what it is sent is legal whatever version it offered. TLS 1.3 reserves the type
 * (`hello_request_RESERVED`, RFC 8446 4), and a client rejects it; but which version is
 * spoken is decided by the ServerHello, which never comes, and the record is never whole
 * for any client to look into. Its header uses the version every TLS 1.3 record but an
 * initial ClientHello carries, 0x0303 (RFC 8446 5.1), which TLS 1.2 servers send too.
 *
 * Verdicts: a whole record, after which a client parses its messages; a ServerHello (type
 * 2), which would settle the version; an alert (record type 21), which ends the handshake.
 * None is ever sent. The header goes in one piece: clients read it whole before the body.
 *
 * @module
 */
import { headEnd, type Pacing, type Protocol, slowLines, wholeLines } from "./protocol.ts";

/** RFC 8446 5.1: a handshake record, version 0x0303, of 2^14 bytes. */
const recordHeader = "\x16\x03\x03\x40\x00";

/** RFC 8446 5.1: the most a record may hold. */
const recordLength = 2 ** 14;

/** RFC 5246 7.4.1.1: a HelloRequest, type 0, with an empty body: 4 bytes. */
const helloRequest = "\x00\x00\x00\x00";

/**
 * A byte every 2 s ± 1, the first after 1 s: a client gives the server's first flight a
 * read timeout, and the header comes at once; the drip then resets any per-read timeout
 * of 3 s or more.
 */
export const tlsPacing: Pacing = {
  firstDelayMs: 1_000,
  delayMs: 2_000,
  jitterMs: 1_000,
  pieceSize: 1,
  maxLineLength: helloRequest.length,
};

/**
 * The tls tarpit's lines: the record header with the first HelloRequest, then
 * HelloRequests to the record's length, less its last byte.
 */
function* unfinishedRecord(): Generator<string, void, undefined> {
  const requests = recordLength / helloRequest.length;
  yield `${recordHeader}${headEnd}${helloRequest}`;
  for (let i = 1; i < requests - 1; i++) yield helloRequest;
  yield helloRequest.slice(0, -1);
}

/** The tls protocol for the registry. */
export const tls: Protocol = {
  name: "tls",
  summary:
    "a handshake record of HelloRequests that never completes (RFC 8446 5.1, RFC 5246 7.4.1.1)",
  // Bytes, not text: a whole record, a ServerHello's type, an alert record's header.
  verdicts: [
    new RegExp(`${recordHeader}[\\s\\S]{${recordLength}}`),
    new RegExp(String.fromCharCode(2)),
    new RegExp(String.fromCharCode(21, 3)),
  ],
  minLineLength: helloRequest.length,
  pacing: tlsPacing,
  alternatives: [wholeLines(tlsPacing), slowLines(tlsPacing)],
  lines: unfinishedRecord,
};
