/**
 * Cutting a protocol's lines into the pieces a tick sends: a byte or a few at a time, a
 * line's head (everything before its `headEnd` mark) in one piece, or whole lines.
 *
 * A piece of one byte is a one-character string, which V8 keeps cached: a tick that sends
 * one allocates nothing.
 *
 * @module
 */
import { headEnd } from "../../protocols/protocol.ts";

/** Where a client is in its protocol's lines; the engine keeps one per client. */
export interface LineCursor {
  /** The line being sent; empty once its last piece has gone. */
  line: string;
  /** The index of its next byte; 0 once its last piece has gone. */
  offset: number;
  /** The lines still to come. */
  readonly lines: Iterator<string, void, undefined>;
}

/**
 * The next piece for `cursor`, at most `pieceSize` bytes (0: a whole line), a head
 * whole; undefined when the protocol has no more lines.
 *
 * @example
 * ```ts
 * import { nextPiece } from "./pieces.ts";
 * const cursor = { line: "", offset: 0, lines: ["220-\u0100hi\r\n"].values() };
 * nextPiece(cursor, 1); // "220-"
 * nextPiece(cursor, 1); // "h"
 * ```
 */
export function nextPiece(cursor: LineCursor, pieceSize: number): string | undefined {
  if (cursor.offset >= cursor.line.length) {
    const next = cursor.lines.next();
    if (next.done) return undefined;
    const line = next.value;
    const head = line.indexOf(headEnd);
    cursor.line = line;
    cursor.offset = head + 1;
    if (head >= 0) {
      // Heads are rare (a protocol's first line): the allocation is too.
      if (pieceSize > 0) return line.slice(0, head);
      letGo(cursor);
      return line.slice(0, head) + line.slice(head + 1);
    }
  }
  const { line, offset } = cursor;
  if (pieceSize === 0 || pieceSize >= line.length - offset) {
    letGo(cursor);
    return offset === 0 ? line : line.slice(offset);
  }
  cursor.offset = offset + pieceSize;
  return pieceSize === 1 ? line[offset] : line.slice(offset, offset + pieceSize);
}

/**
 * Lets go of a line whose last piece is going: held until the next line, it would
 * outlive a young-generation collection or two and be moved to the old generation, where
 * a line sent whole each second piles up as garbage until a full collection.
 */
function letGo(cursor: LineCursor): void {
  cursor.line = "";
  cursor.offset = 0;
}
