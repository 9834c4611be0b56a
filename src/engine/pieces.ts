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

/**
 * Where each client is in its protocol's lines, a column each, indexed by client: the
 * engine's client table is one.
 */
export interface LineCursors {
  /** The lines still to come. */
  readonly lines: readonly Iterator<string, void, undefined>[];
  /** The line being sent; empty between lines. */
  readonly line: string[];
  /** The index of its next byte; 0 between lines. */
  readonly offset: { [client: number]: number };
}

/**
 * The next piece for `client`, at most `pieceSize` bytes (0: a whole line), a head whole;
 * undefined when the protocol has no more lines.
 *
 * @example
 * ```ts
 * import { nextPiece } from "./pieces.ts";
 * const cursors = { line: [""], offset: [0], lines: [["220-\u0100hi\r\n"].values()] };
 * nextPiece(cursors, 0, 1); // "220-"
 * nextPiece(cursors, 0, 1); // "h"
 * ```
 */
export function nextPiece(
  cursors: LineCursors,
  client: number,
  pieceSize: number,
): string | undefined {
  const offset = cursors.offset[client];
  let line: string;
  if (offset === 0) {
    // Between lines: a line sent whole, or whose head is all of it, is never kept.
    const next = cursors.lines[client].next();
    if (next.done) return undefined;
    line = next.value;
    const head = line.indexOf(headEnd);
    if (head >= 0) {
      // Heads are rare (a protocol's first line): the allocation is too.
      if (pieceSize === 0) return line.slice(0, head) + line.slice(head + 1);
      if (head + 1 < line.length) keep(cursors, client, line, head + 1);
      return line.slice(0, head);
    }
  } else {
    line = cursors.line[client];
  }
  if (pieceSize === 0 || pieceSize >= line.length - offset) {
    // Let go once its last piece is going: held until the next line, it would outlive a
    // young-generation collection or two and be moved to the old generation, where a line
    // sent whole each second piles up as garbage until a full collection.
    if (offset > 0) keep(cursors, client, "", 0);
    return offset === 0 ? line : line.slice(offset);
  }
  if (offset === 0) cursors.line[client] = line;
  cursors.offset[client] = offset + pieceSize;
  return pieceSize === 1 ? line[offset] : line.slice(offset, offset + pieceSize);
}

/** Keeps `line` as the client's, `offset` bytes of it sent. */
function keep(cursors: LineCursors, client: number, line: string, offset: number): void {
  cursors.line[client] = line;
  cursors.offset[client] = offset;
}
