/**
 * Typed arrays whose memory costs nothing until it is used: TarPyt sizes its tables for
 * the most clients and sources it may ever hold, and pays only for those it holds.
 *
 * @module
 */

/**
 * A typed array of `length` zeros whose pages become resident only as they are written. A
 * plain one may be carved from the C heap and cleared byte by byte, as glibc's `calloc`
 * does below its mmap threshold, which rises as large blocks are freed; a resizable
 * buffer is memory V8 reserves and the kernel commits, a zeroed page at a time, when first
 * written (tests/unit/zeroed_test.ts proves it of the runtime).
 *
 * @example
 * ```ts
 * import { zeroed } from "./zeroed.ts";
 * const times = zeroed(Float64Array, 1 << 20); // 8 MiB reserved, none of it resident
 * times[0] = 1; // one page resident
 * ```
 */
export function zeroed<T>(
  Type: { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
): T {
  const bytes = length * Type.BYTES_PER_ELEMENT;
  const buffer = new ArrayBuffer(0, { maxByteLength: bytes });
  buffer.resize(bytes);
  return new Type(buffer);
}
