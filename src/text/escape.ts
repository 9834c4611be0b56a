/**
 * Text as it may be shown on one line: control characters (a newline that would start a
 * forged log line, an escape sequence for the terminal) are written as `\xHH`.
 *
 * @module
 */

// deno-lint-ignore no-control-regex -- control characters are what it looks for
const controlCharacter = /[\x00-\x1f\x7f-\x9f]/;

/**
 * `text` with every control character written `\xHH`.
 *
 * @example
 * ```ts
 * import { escapeControl } from "./escape.ts";
 * escapeControl("10s\nACCEPT host=192.0.2.1"); // "10s\\x0aACCEPT host=192.0.2.1"
 * ```
 */
export function escapeControl(text: string): string {
  // Most text has none: a test allocates nothing.
  if (!controlCharacter.test(text)) return text;
  return text.replace(
    new RegExp(controlCharacter.source, "g"),
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
