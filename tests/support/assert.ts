/**
 * The few assertions the tests need. `@std/assert` lives on JSR, which these machines
 * cannot reach, so these stand in for it with the same names and meanings.
 *
 * @module
 */

/** Throws when `condition` is false. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * Throws unless `actual` and `expected` are deeply equal, compared as JSON in which a Map
 * is its entries and a Set its values (plain JSON would write both as `{}`).
 */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  const a = JSON.stringify(actual, collections);
  const e = JSON.stringify(expected, collections);
  if (a !== e) throw new Error(`${message ? message + ": " : ""}expected ${e}, got ${a}`);
}

function collections(_key: string, value: unknown): unknown {
  if (value instanceof Map) return { Map: [...value] };
  if (value instanceof Set) return { Set: [...value] };
  return value;
}

/** Throws unless `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(text)) {
    throw new Error(
      `${message ? message + ": " : ""}${JSON.stringify(text)} does not match ${pattern}`,
    );
  }
}

/** Throws unless `text` does not match `pattern`. */
export function assertNotMatch(text: string, pattern: RegExp, message?: string): void {
  if (pattern.test(text)) {
    throw new Error(`${message ? message + ": " : ""}${JSON.stringify(text)} matches ${pattern}`);
  }
}

/** Throws unless `fn` throws an instance of `type` whose message matches `pattern`. */
export function assertThrows(
  fn: () => unknown,
  type: abstract new (...args: never[]) => Error,
  pattern: RegExp,
): void {
  try {
    fn();
  } catch (error) {
    assert(error instanceof type, `expected ${type.name}, got ${error}`);
    assertMatch(error.message, pattern);
    return;
  }
  throw new Error(`expected ${type.name} matching ${pattern}, nothing was thrown`);
}
