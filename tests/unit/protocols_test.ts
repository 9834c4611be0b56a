/**
 * What each protocol sends, checked against the RFC rule it cites and against the
 * verdicts its clients wait for: every piece a client can observe is legal, and no
 * stream ever completes a verdict.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { protocols } from "../../protocols/mod.ts";
import { httpContinueLine } from "../../protocols/http.ts";
import { preBannerLineOf } from "../../protocols/ssh.ts";
import {
  endlessLines,
  headEnd,
  lineAlternatives,
  LinePool,
  linePoolSize,
  longestSilenceMs,
  randomText,
  randomTextPoolLength,
  serverFirstPacing,
  verdictFreeText,
} from "../../protocols/protocol.ts";
import { gridFor } from "../../src/engine/pacing_clock.ts";
import { longestLine } from "../../src/cli/flags.ts";

const samples = 5_000;

/** The first `count` lines a client would get, head marks removed. */
function firstLines(
  name: string,
  maxLineLength: number,
  count: number,
  banner = "RFB 003.008\n",
): string[] {
  const lines: string[] = [];
  for (const line of protocols[name].lines({ maxLineLength, banner })) {
    const heads = line.split(headEnd).length - 1;
    assert(heads <= 1, `${name}: ${heads} head marks in ${JSON.stringify(line)}`);
    lines.push(line.replace(headEnd, ""));
    if (lines.length === count) break;
  }
  return lines;
}

function assertLengthsWithin(lines: string[], min: number, max: number): void {
  for (const line of lines) {
    assert(
      line.length >= min && line.length <= max,
      `length ${line.length} of ${JSON.stringify(line)}`,
    );
  }
}

Deno.test("no protocol ever sends what its clients take for a verdict", () => {
  for (const [name, protocol] of Object.entries(protocols)) {
    for (const max of [protocol.minLineLength, protocol.pacing.maxLineLength, longestLine]) {
      const stream = firstLines(name, Math.max(max, protocol.minLineLength), 2_000).join("");
      for (const verdict of protocol.verdicts) {
        assert(!verdict.test(stream), `${name} at ${max}: ${verdict} in its stream`);
      }
    }
  }
});

Deno.test("every protocol's default pacing keeps silence within the bound and lines within range", () => {
  for (const [name, { pacing, minLineLength }] of Object.entries(protocols)) {
    assert(pacing.firstDelayMs + pacing.jitterMs < longestSilenceMs, name);
    assert(pacing.jitterMs < pacing.delayMs, name);
    assert(pacing.delayMs + pacing.jitterMs < longestSilenceMs, name);
    assert(pacing.maxLineLength >= minLineLength && pacing.maxLineLength <= longestLine, name);
  }
});

Deno.test("the whole-line profiles' turns fall on grids of 1, 2 and 4 s, so a few clients share wakeups", () => {
  const grids = Object.fromEntries(
    lineAlternatives(serverFirstPacing).filter((profile) => profile.pieceSize === 0)
      .map((profile) => [profile.name, gridFor(2 * profile.jitterMs)]),
  );
  assertEquals(grids, { lines: 1_000, spaced: 2_000, slow: 4_000 });
});

Deno.test("a protocol whose first line is a whole status line gives it only a piece at a time", () => {
  // medusa 2.2 reports a whole `HTTP/1.1 100 Continue` as a login (tests/system/campaign_test.ts).
  const options = { maxLineLength: 255, banner: "" };
  for (const [name, protocol] of Object.entries(protocols)) {
    const [first] = protocol.lines(options);
    if (!/^HTTP\/1\.1 \d{3} .*\r\n$/.test(first)) continue;
    for (const profile of protocol.alternatives) {
      assert(profile.pieceSize > 0, `${name} ${profile.name}`);
    }
  }
});

Deno.test("the verdict-free alphabet holds no digit, no colon, no prompt character and no upper case", () => {
  assertMatch(verdictFreeText, /^[a-z ]+$/);
  for (const word of ["login", "password", "invalid", "incorrect", "bad", "denied", "failed"]) {
    assert([...word].some((c) => !verdictFreeText.includes(c)), `${word} can be spelt`);
  }
});

for (const max of [3, 4, 32, longestLine]) {
  Deno.test(`ssh pre-banner lines are legal under RFC 4253 4.2 and OpenSSH at max ${max}`, () => {
    const lines = firstLines("ssh", max, samples);
    assertLengthsWithin(lines, 3, max);
    for (const line of lines) {
      // CRLF-terminated; printable only: no NUL and no lone CR (OpenSSH rejects both).
      assertMatch(line, /^[\x20-\x7e]+\r\n$/);
      assert(!line.startsWith("SSH-"), `a pre-banner line must not start with SSH-: ${line}`);
    }
  });
}

Deno.test("random text has the length asked, only its alphabet, and seldom repeats", () => {
  for (const length of [0, 1, 40, randomTextPoolLength, randomTextPoolLength + 1]) {
    assertMatch(randomText(length, "ab"), new RegExp(`^[ab]{${length}}$`));
  }
  const lines = Array.from({ length: 1_000 }, () => randomText(32, "abc"));
  // As many windows as the pool has characters: a few in a hundred repeat by chance.
  assert(new Set(lines).size > 850, `${new Set(lines).size} distinct of 1,000`);
});

Deno.test("an ssh line whose text starts SSH- is sent without the SSH- prefix", () => {
  assertEquals(preBannerLineOf("SSH-2.0-x"), "xSH-2.0-x\r\n");
  assertEquals(preBannerLineOf("SSH"), "SSH\r\n");
});

Deno.test("ssh line lengths spread over the whole allowed range", () => {
  const lengths = new Set((firstLines("ssh", 32, samples)).map((line) => line.length));
  assertEquals(lengths.size, 30); // every length from 3 to 32
});

for (const max of [8, 32, longestLine]) {
  Deno.test(`http sends 100 Continue, then header fields legal under RFC 9110 at max ${max}`, () => {
    const lines = firstLines("http", max, samples);
    assertEquals(lines[0], httpContinueLine);
    assertLengthsWithin(lines.slice(1), 8, max);
    for (const line of lines.slice(1)) {
      // field-name = token (RFC 9110 5.1); field-value of visible characters (5.5)
      assertMatch(line, /^X-[A-Za-z0-9]+: [A-Za-z0-9]+\r\n$/);
    }
  });
}

Deno.test("http-status sends a status line whose reason phrase never ends (RFC 9112 4)", () => {
  const stream = firstLines("http-status", 32, samples).join("");
  assertMatch(stream, /^HTTP\/1\.1 100 [a-z ]{100000,}$/);
});

for (const max of [7, 32, longestLine]) {
  for (const name of ["smtp", "ftp"]) {
    Deno.test(`${name} sends only 220- continuation lines (RFC 5321 4.2.1, RFC 959 4.2) at max ${max}`, () => {
      const lines = firstLines(name, max, samples);
      assertLengthsWithin(lines, 7, max);
      for (const line of lines) assertMatch(line, /^220-[a-z ]+\r\n$/);
    });
  }
}

Deno.test("reply codes, greetings' starts and telnet's commands are heads, sent in one piece", () => {
  const firstLine = (name: string) =>
    protocols[name].lines({ maxLineLength: 32, banner: "" }).next().value;
  assertMatch(String(firstLine("smtp")), /^220-\u0100/);
  assertMatch(String(firstLine("ftp")), /^220-\u0100/);
  assertMatch(String(firstLine("pop3")), /^\+OK \u0100/);
  assertMatch(String(firstLine("imap")), /^\* OK \u0100/);
  assertEquals(firstLine("telnet"), "\xff\xfb\x01\xff\xfb\x03\u0100");
  assertMatch(String(firstLine("irc")), /^NOTICE \* :\*\*\* \u0100/);
  // HTTP's status lines are not: hydra must never read "HTTP/1." in one piece.
  for (const name of ["http", "http-1xx", "http-status"]) {
    assert(!String(firstLine(name)).includes(headEnd), name);
  }
});

Deno.test("every registered protocol honours its own minimum line length", () => {
  for (const [name, protocol] of Object.entries(protocols)) {
    assertEquals(protocol.name, name);
    const lines = firstLines(name, protocol.minLineLength, 1_000);
    // ssh-ignore's KEXINIT (its second tick) and the heads of greetings are not bounded.
    const bounded = name === "ssh-ignore" ? lines.slice(2) : lines.slice(1);
    if (!["pop3", "http-status", "imap", "banner"].includes(name)) {
      assert(bounded.every((line) => line.length <= protocol.minLineLength), name);
    }
    const oneByteEach = (line: string): boolean => [...line].every((c) => c.charCodeAt(0) < 256);
    assert(lines.every(oneByteEach), `${name}: one byte a character`);
  }
});

for (const max of [6, 32, longestLine]) {
  Deno.test(`telnet offers ECHO and SGA, then banner lines without IAC or verdicts at max ${max}`, () => {
    const [offer, ...lines] = firstLines("telnet", max, samples);
    assertEquals(offer, "\xff\xfb\x01\xff\xfb\x03"); // IAC WILL ECHO, IAC WILL SGA
    assertLengthsWithin(lines, 3, max);
    for (const line of lines) assertMatch(line, /^[a-z ]+\r\n$/);
  });
}

Deno.test("pop3 sends a +OK greeting of 510 octets and never its CRLF (RFC 1939 4, RFC 2449 4)", () => {
  const lines = firstLines("pop3", 32, 10);
  assertEquals(lines.length, 1, "one line, then nothing more");
  assertMatch(lines[0], /^\+OK [a-z ]{506}$/);
});

Deno.test("imap sends a * OK greeting whose line never ends (RFC 9051 7.1)", () => {
  const stream = firstLines("imap", 32, samples).join("");
  assertMatch(stream, /^\* OK [a-z ]{100000,}$/);
});

for (const max of [17, 32, longestLine]) {
  Deno.test(`irc sends NOTICE * lines within RFC 2812's 512 bytes at max ${max}`, () => {
    const lines = firstLines("irc", max, samples);
    assertLengthsWithin(lines, 17, max);
    for (const line of lines) assertMatch(line, /^NOTICE \* :\*\*\* [a-z ]+\r\n$/);
  });
}

/** Splits SSH binary packets (RFC 4253 6) and checks their framing. */
function sshPackets(stream: string): { type: number; payload: string }[] {
  const packets = [];
  for (let at = 0; at < stream.length;) {
    const length = [0, 1, 2, 3].reduce((n, i) => n * 256 + stream.charCodeAt(at + i), 0);
    const padding = stream.charCodeAt(at + 4);
    assert((length + 4) % 8 === 0, `packet at ${at}: ${length + 4} bytes is not a multiple of 8`);
    assert(padding >= 4 && padding < length, `packet at ${at}: padding ${padding}`);
    const payload = stream.slice(at + 5, at + 4 + length - padding);
    packets.push({ type: payload.charCodeAt(0), payload });
    at += 4 + length;
  }
  return packets;
}

for (const max of [23, 64, longestLine]) {
  Deno.test(`ssh-ignore sends a version, a KEXINIT, then only SSH_MSG_IGNORE packets (RFC 4253 11.2) at max ${max}`, () => {
    const [version, ...packets] = firstLines("ssh-ignore", max, 2_000);
    assertMatch(version, /^SSH-2\.0-[\x21-\x2c\x2e-\x7e]+\r\n$/);
    const parsed = sshPackets(packets.join(""));
    assertEquals(parsed.map((p) => p.type).slice(0, 3), [20, 2, 2]);
    assert(parsed.slice(1).every((p) => p.type === 2), "IGNORE only, never an auth answer");
    assert(packets.slice(1).every((packet) => packet.length <= max));
    assert(!parsed[0].payload.includes("kex-strict"), "strict kex would forbid IGNORE");
    assertMatch(parsed[0].payload, /curve25519-sha256/);
  });
}

Deno.test("http-1xx sends 100 Continue responses of at most 3 fields, never a final status (RFC 9110 15.2)", () => {
  const text = (firstLines("http-1xx", 32, samples)).join("");
  const responses = text.split("\r\n\r\n").slice(0, -1);
  assert(responses.length > 500, `${responses.length} responses`);
  for (const response of responses) {
    const [status, ...fields] = response.split("\r\n");
    assertEquals(status, "HTTP/1.1 100 Continue");
    assert(fields.length <= 3 && fields.every((f) => /^X-[A-Za-z0-9]+: [A-Za-z0-9]+$/.test(f)));
  }
});

Deno.test("banner sends --banner but its last byte, then nothing more", () => {
  assertEquals(firstLines("banner", 32, 20, "RFB 003.008\n"), ["RFB 003.008"]);
  assertEquals(firstLines("banner", 32, 20, "x"), []);
});

Deno.test("tls sends a handshake record header of 2^14 bytes, then HelloRequests, all but the record's last byte (RFC 8446 5.1, RFC 5246 7.4.1.1)", () => {
  const lines = firstLines("tls", 4, 10_000);
  const stream = lines.join("");
  assertEquals(stream.slice(0, 5), "\x16\x03\x03\x40\x00", "handshake, 0x0303, 16,384 bytes");
  assertEquals(stream.length, 5 + 2 ** 14 - 1);
  assertEquals(stream.slice(5), "\x00".repeat(2 ** 14 - 1), "HelloRequests: type 0, length 0");
  for (const verdict of protocols.tls.verdicts) assert(!verdict.test(stream), `${verdict}`);
  assert(protocols.tls.verdicts[0].test(stream + "\x00"), "one byte more would complete it");
});

Deno.test("a protocol with nothing to remember per client gives its clients one line iterator", () => {
  // The engine keeps a client's iterator for as long as the client stays: one shared by all
  // costs nothing per client. One with opening lines counts them for each client.
  const options = (maxLineLength: number) => ({ maxLineLength, banner: "" });
  for (const name of ["ssh", "smtp", "irc"]) {
    const lines = protocols[name].lines(options(32));
    assert(lines === protocols[name].lines(options(32)), `${name}: an iterator a client`);
    assert(lines !== protocols[name].lines(options(64)), `${name}: one for two lengths`);
    assertEquals(lines.next().done, false);
  }
  assert(protocols.telnet.lines(options(32)) !== protocols.telnet.lines(options(32)));
});

Deno.test("endless lines are made until a pool of them is full, then drawn from it, for every client of a protocol", () => {
  let made = 0;
  const lines = endlessLines((max) => `${made++}`.padStart(max - 2, "x") + "\r\n", ["hi\r\n"]);
  const clients = [
    lines({ maxLineLength: 8, banner: "" }),
    lines({ maxLineLength: 8, banner: "" }),
  ];
  const sent = new Set<string>();
  for (let i = 0; i < 4 * linePoolSize; i++) {
    for (const client of clients) sent.add(client.next().value ?? "");
  }
  assertEquals(made, linePoolSize, "lines made, for both clients");
  assertEquals(sent.size, linePoolSize + 1, "lines sent: the opening and the pool's");
  assertEquals(new LinePool((max) => "y".repeat(max), 4).next(), "yyyy");
});
