/**
 * A writer of POSIX ustar archives holding small text files: how `tarpyt systemd print`
 * hands over its unit files. The binary may write no file itself, and a tar stream
 * unpacks with one standard command and runs nothing, unlike a shell script.
 *
 * @module
 */

/** A file to put in an archive: a name of at most 100 bytes, and its text. */
export interface TarEntry {
  /** The file's name. */
  readonly name: string;
  /** The file's text. */
  readonly text: string;
}

const block = 512;

/**
 * An archive of regular files owned by root, mode 0644, dated `mtimeSeconds`.
 *
 * @example
 * ```ts
 * import { tarArchive } from "./tar.ts";
 * const tar = tarArchive([{ name: "hello.txt", text: "hello\n" }], 0);
 * tar.length; // 2048: header, content, two zero blocks
 * ```
 */
export function tarArchive(entries: readonly TarEntry[], mtimeSeconds: number): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const content = encoder.encode(entry.text);
    parts.push(tarHeader(entry.name, content.length, mtimeSeconds));
    parts.push(content, new Uint8Array(padding(content.length)));
  }
  parts.push(new Uint8Array(2 * block)); // end of archive
  const archive = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    archive.set(part, offset);
    offset += part.length;
  }
  return archive;
}

function padding(length: number): number {
  return (block - (length % block)) % block;
}

/** A ustar header block (POSIX.1-1988, `pax` in POSIX.1-2001 describes the fields). */
function tarHeader(name: string, size: number, mtimeSeconds: number): Uint8Array {
  const header = new Uint8Array(block);
  const put = (offset: number, length: number, text: string): void => {
    const bytes = new TextEncoder().encode(text);
    if (bytes.length > length) throw new Error(`tar: "${text}" does not fit ${length} bytes`);
    header.set(bytes, offset);
  };
  const octal = (offset: number, length: number, value: number): void =>
    put(offset, length, value.toString(8).padStart(length - 1, "0") + "\0");
  put(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, size);
  octal(136, 12, Math.floor(mtimeSeconds));
  put(148, 8, " ".repeat(8)); // the checksum counts its own field as spaces
  put(156, 1, "0"); // regular file
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  put(265, 32, "root");
  put(297, 32, "root");
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  put(148, 8, checksum.toString(8).padStart(6, "0") + "\0 ");
  return header;
}
