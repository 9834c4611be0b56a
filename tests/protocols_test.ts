import { assert, assertEquals, assertMatch } from "./assert.ts";
import { protocols } from "../protocols/mod.ts";
import { httpStatusLine } from "../protocols/http.ts";
import { sshPreBannerLine } from "../protocols/ssh.ts";
import { printableAscii } from "../protocols/protocol.ts";
import { longestLine } from "../src/cli.ts";

const samples = 5_000;

/** The first `count` lines a client would get. */
function firstLines(
  name: string,
  maxLineLength: number,
  count: number,
  banner = "RFB 003.008\n",
): string[] {
  const lines: string[] = [];
  for (const line of protocols[name].lines({ maxLineLength, banner })) {
    lines.push(line);
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

Deno.test("an ssh line drawn as SSH-... is sent without the SSH- prefix", () => {
  // Make Math.random draw a 4-character text "SSH-": the length, then each character.
  const draw = (char: string) => (printableAscii.indexOf(char) + 0.5) / printableAscii.length;
  const sequence = [0.9, draw("S"), draw("S"), draw("H"), draw("-")];
  const random = Math.random;
  Math.random = () => sequence.shift() ?? random();
  try {
    assertEquals(sshPreBannerLine(6), "xSH-\r\n");
  } finally {
    Math.random = random;
  }
});

Deno.test("ssh line lengths spread over the whole allowed range", () => {
  const lengths = new Set((firstLines("ssh", 32, samples)).map((line) => line.length));
  assertEquals(lengths.size, 30); // every length from 3 to 32
});

for (const max of [8, 32, longestLine]) {
  Deno.test(`http sends 200 OK then header fields legal under RFC 9110 at max ${max}`, () => {
    const lines = firstLines("http", max, samples);
    assertEquals(lines[0], httpStatusLine);
    assertLengthsWithin(lines.slice(1), 8, max);
    for (const line of lines.slice(1)) {
      // field-name = token (RFC 9110 5.1); field-value of visible characters (5.5)
      assertMatch(line, /^X-[A-Za-z0-9]+: [A-Za-z0-9]+\r\n$/);
    }
  });
}

for (const max of [7, 32, longestLine]) {
  for (const name of ["smtp", "ftp"]) {
    Deno.test(`${name} sends only 220- continuation lines (RFC 5321 4.2.1, RFC 959 4.2) at max ${max}`, () => {
      const lines = firstLines(name, max, samples);
      assertLengthsWithin(lines, 7, max);
      for (const line of lines) assertMatch(line, /^220-[\x20-\x7e]+\r\n$/);
    });
  }
}

Deno.test("every registered protocol honours its own minimum line length", () => {
  for (const [name, protocol] of Object.entries(protocols)) {
    assertEquals(protocol.name, name);
    const lines = firstLines(name, protocol.minLineLength, 1_000);
    // ssh-ignore's KEXINIT (its second tick) is the one packet no length bound applies to.
    const bounded = name === "ssh-ignore" ? lines.slice(2) : lines.slice(1);
    assert(bounded.every((line) => line.length <= protocol.minLineLength), name);
    const oneByteEach = (line: string): boolean => [...line].every((c) => c.charCodeAt(0) < 256);
    assert(lines.every(oneByteEach), `${name}: one byte a character`);
  }
});

for (const max of [6, 32, longestLine]) {
  Deno.test(`telnet offers ECHO and SGA, then printable banner lines without IAC at max ${max}`, () => {
    const [offer, ...lines] = firstLines("telnet", max, samples);
    assertEquals(offer, "\xff\xfb\x01\xff\xfb\x03"); // IAC WILL ECHO, IAC WILL SGA
    assertLengthsWithin(lines, 3, max);
    for (const line of lines) assertMatch(line, /^[\x20-\x7e]+\r\n$/);
  });
}

Deno.test("pop3 drips a 512-octet +OK greeting a byte a tick (RFC 1939 4, RFC 2449 4), then falls silent", () => {
  const ticks = firstLines("pop3", 32, 600);
  assertEquals(ticks[0], "+OK ");
  const greeting = ticks.slice(0, 508).join("");
  assertEquals(greeting.length, 512);
  assertMatch(greeting, /^\+OK [\x20-\x7e]{506}\r\n$/);
  assert(ticks.slice(1, 507).every((tick) => tick.length === 1));
  assert(ticks.slice(508).every((tick) => tick === ""));
});

for (const max of [8, 32, longestLine]) {
  Deno.test(`imap sends untagged * OK lines without response codes (RFC 9051 7.1) at max ${max}`, () => {
    const lines = firstLines("imap", max, samples);
    assertLengthsWithin(lines, 8, max);
    for (const line of lines) assertMatch(line, /^\* OK [\x20-\x5a\x5c-\x7e][\x20-\x7e]*\r\n$/);
  });
}

for (const max of [17, 32, longestLine]) {
  Deno.test(`irc sends NOTICE * lines within RFC 2812's 512 bytes at max ${max}`, () => {
    const lines = firstLines("irc", max, samples);
    assertLengthsWithin(lines, 17, max);
    for (const line of lines) assertMatch(line, /^NOTICE \* :\*\*\* [\x20-\x7e]+\r\n$/);
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
    assert(parsed.slice(1).every((p) => p.type === 2));
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

for (const max of [28, 32, longestLine]) {
  Deno.test(`http-chunked sends 200 OK, chunked, then chunks that match their sizes (RFC 9112 7.1) at max ${max}`, () => {
    const lines = firstLines("http-chunked", max, samples);
    assertEquals(
      lines.slice(0, 4).join(""),
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    assertLengthsWithin(lines.slice(4), 6, max);
    for (const chunk of lines.slice(4)) {
      const [, size, data] = /^([0-9a-f]+)\r\n([A-Za-z0-9]+)\r\n$/.exec(chunk) ?? [];
      assertEquals(parseInt(size, 16), data?.length, chunk);
    }
  });
}

Deno.test("banner drips --banner one byte a tick, then falls silent", () => {
  const ticks = firstLines("banner", 32, 20, "RFB 003.008\n");
  assertEquals(ticks.slice(0, 12), [..."RFB 003.008\n"]);
  assert(ticks.slice(12).every((tick) => tick === ""));
});
