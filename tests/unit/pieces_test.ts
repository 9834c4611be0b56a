import { assert, assertEquals } from "../support/assert.ts";
import { type LineCursors, nextPiece } from "../../src/engine/pieces.ts";
import { protocols } from "../../protocols/mod.ts";
import { headEnd } from "../../protocols/protocol.ts";

/** One client's cursor, its place in a line as narrow as the engine keeps it. */
function cursorOf(lines: Iterator<string, void, undefined>): LineCursors {
  return { lines: [lines], line: [""], offset: new Uint16Array(1) };
}

/** The first `count` pieces of `lines`, cut `pieceSize` bytes at a time. */
function pieces(
  lines: Iterator<string, void, undefined>,
  pieceSize: number,
  count: number,
): string[] {
  const cursors = cursorOf(lines);
  const cut: string[] = [];
  for (let piece = nextPiece(cursors, 0, pieceSize); piece !== undefined && cut.length < count;) {
    cut.push(piece);
    piece = nextPiece(cursors, 0, pieceSize);
  }
  return cut;
}

Deno.test("a line is cut into pieces of the size asked, its head whole, nothing lost or added", () => {
  const line = "220-\u0100abcdefg\r\n";
  assertEquals(pieces([line].values(), 1, 99), ["220-", ..."abcdefg\r\n"]);
  assertEquals(pieces([line].values(), 3, 99), ["220-", "abc", "def", "g\r\n"]);
  assertEquals(pieces([line].values(), 0, 99), ["220-abcdefg\r\n"]);
  assertEquals(pieces(["ab", "", "cd"].values(), 1, 99), ["a", "b", "", "c", "d"]);
  assertEquals(pieces(["x\u0100"].values(), 1, 99), ["x"]);
});

Deno.test("a cursor lets go of a line once its last piece has gone, as whole lines too", () => {
  // Kept until the next line, a line sent whole each second outlives young collections and
  // piles up in the old generation (`deno task bench`, memory per client at a line a second).
  for (const size of [0, 1, 3]) {
    const cursors = cursorOf(["220-\u0100ab\r\n", "xy\r\n"].values());
    let sent = "";
    while (sent.length < "220-ab\r\n".length) sent += nextPiece(cursors, 0, size);
    assertEquals([sent, cursors.line[0], cursors.offset[0]], ["220-ab\r\n", "", 0], `size ${size}`);
    assertEquals(nextPiece(cursors, 0, 0), "xy\r\n");
    assertEquals(cursors.line[0], "");
  }
});

Deno.test("every protocol's stream is what its pieces add up to, at every piece size", () => {
  const options = { maxLineLength: 32, banner: "RFB 003.008\n" };
  for (const [name, protocol] of Object.entries(protocols)) {
    const lines: string[] = [];
    for (const line of protocol.lines(options)) {
      lines.push(line);
      if (lines.length === 300) break;
    }
    const stream = lines.map((line) => line.replace(headEnd, "")).join("");
    for (const size of [0, 1, 2, 7]) {
      const cut = pieces(lines.values(), size, 100_000);
      assertEquals(cut.join(""), stream, `${name} at ${size}`);
      assert(cut.every((piece) => !piece.includes(headEnd)), `${name}: a mark was sent`);
      if (size > 0) {
        // Only heads are longer than a piece.
        const heads = lines.filter((line) => line.includes(headEnd)).map((l) =>
          l.split(headEnd)[0]
        );
        assert(cut.every((piece) => piece.length <= size || heads.includes(piece)), name);
      }
    }
  }
});
