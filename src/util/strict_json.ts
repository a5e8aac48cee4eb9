/**
 * JSON parsing that refuses duplicate keys. `JSON.parse` keeps the last of
 * two equal keys without notice, so `{"value": 1, "value": 2}` would store
 * 2 while the sender may have meant 1: ambiguous input is refused instead.
 *
 * @module
 */

/** A key that appears twice in one object; `path` says where, as `$[3].options`. */
export class DuplicateKeyError extends Error {
  /** Creates the error for `key` at `path`. */
  constructor(readonly key: string, readonly path: string) {
    super(`the key ${JSON.stringify(key)} appears twice in the object at ${path}`);
    this.name = "DuplicateKeyError";
  }
}

/**
 * Parses `text` as `JSON.parse` does, but refuses an object with a repeated
 * key.
 *
 * @throws {SyntaxError} when `text` is not JSON.
 * @throws {DuplicateKeyError} naming the first repeated key and where it is.
 */
export function parseJsonStrict(text: string): unknown {
  const value = JSON.parse(text);
  const duplicate = findDuplicateKey(text);
  if (duplicate) throw duplicate;
  return value;
}

type Frame =
  | { kind: "object"; keys: Set<string>; key: string | null; expectKey: boolean }
  | { kind: "array"; index: number };

/** The first repeated key of valid JSON `text`, or null. One pass, no recursion. */
export function findDuplicateKey(text: string): DuplicateKeyError | null {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const top = stack.at(-1);
      if (top?.kind === "object" && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? JSON.parse(`"${raw}"`) as string : raw;
        if (top.keys.has(key)) return new DuplicateKeyError(key, pathOf(stack));
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */) {
      stack.push({ kind: "object", keys: new Set(), key: null, expectKey: true });
    } else if (c === 0x5b /* [ */) stack.push({ kind: "array", index: 0 });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top?.kind === "array") top.index++;
      else if (top) top.expectKey = true;
    }
    i++;
  }
  return null;
}

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    if (end < 0) return text.length; // unterminated: not JSON, nothing more to scan
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/** `$[3].options`: where the innermost object is; its own key left out. */
function pathOf(stack: Frame[]): string {
  let path = "$";
  stack.forEach((frame, depth) => {
    if (frame.kind === "array") path += `[${frame.index}]`;
    else if (depth < stack.length - 1) path += `.${frame.key}`;
  });
  return path;
}
