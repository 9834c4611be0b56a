/**
 * Text as it may be shown on one line: control characters (a newline that would start a
 * forged log line, an escape sequence for the terminal, C1's CSI `\x9b`) are written as
 * `\xHH`, and the Unicode line and paragraph separators as `\u2028` and `\u2029`.
 *
 * @module
 */

// deno-lint-ignore no-control-regex -- control characters are what it looks for
const controlCharacter = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/**
 * `text` with every control character written `\xHH` (and U+2028, U+2029 as `\uHHHH`).
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
    (c) =>
      c.charCodeAt(0) > 0xff
        ? `\\u${c.charCodeAt(0).toString(16)}`
        : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * A JSON text with what `JSON.stringify` leaves raw and a terminal or a JavaScript
 * reader may act on written as `\uHHHH`: DEL, the C1 controls and the Unicode line and
 * paragraph separators. JSON means the same by either spelling.
 *
 * @example
 * ```ts
 * import { escapeJson } from "./escape.ts";
 * escapeJson(JSON.stringify({ host: "a\x9b2J" })); // '{"host":"a\\u009b2J"}'
 * ```
 */
export function escapeJson(json: string): string {
  return json.replace(
    /[\x7f-\x9f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
