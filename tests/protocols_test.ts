import { assert, assertEquals, assertMatch } from "./assert.ts";
import { protocols } from "../protocols/mod.ts";
import { httpStatusLine } from "../protocols/http.ts";
import { sshPreBannerLine } from "../protocols/ssh.ts";
import { printableAscii } from "../protocols/protocol.ts";
import { longestLine } from "../src/cli.ts";

const samples = 5_000;

/** The first `count` lines a client would get. */
async function firstLines(name: string, maxLineLength: number, count: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of protocols[name].lines({ maxLineLength })) {
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
  Deno.test(`ssh pre-banner lines are legal under RFC 4253 4.2 and OpenSSH at max ${max}`, async () => {
    const lines = await firstLines("ssh", max, samples);
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

Deno.test("ssh line lengths spread over the whole allowed range", async () => {
  const lengths = new Set((await firstLines("ssh", 32, samples)).map((line) => line.length));
  assertEquals(lengths.size, 30); // every length from 3 to 32
});

for (const max of [8, 32, longestLine]) {
  Deno.test(`http sends 200 OK then header fields legal under RFC 9110 at max ${max}`, async () => {
    const lines = await firstLines("http", max, samples);
    assertEquals(lines[0], httpStatusLine);
    assertLengthsWithin(lines.slice(1), 8, max);
    for (const line of lines.slice(1)) {
      // field-name = token (RFC 9110 5.1); field-value of visible characters (5.5)
      assertMatch(line, /^X-[A-Za-z0-9]+: [A-Za-z0-9]+\r\n$/);
    }
  });
}

for (const max of [7, 32, longestLine]) {
  Deno.test(`smtp sends only 220- continuation lines (RFC 5321 4.2.1) at max ${max}`, async () => {
    const lines = await firstLines("smtp", max, samples);
    assertLengthsWithin(lines, 7, max);
    for (const line of lines) assertMatch(line, /^220-[\x20-\x7e]+\r\n$/);
  });
}

Deno.test("every registered protocol honours its own minimum line length", async () => {
  for (const [name, protocol] of Object.entries(protocols)) {
    assertEquals(protocol.name, name);
    const lines = await firstLines(name, protocol.minLineLength, 1_000);
    assert(lines.slice(1).every((line) => line.length <= protocol.minLineLength), name);
  }
});
