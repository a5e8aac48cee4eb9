import assert from "node:assert/strict";
import { DuplicateKeyError, findDuplicateKey, parseJsonStrict } from "./strict_json.ts";

Deno.test("values parse as JSON.parse parses them", () => {
  const text = '{"a": [1, {"b": "x\\"y"}, null], "c": {"a": 2}, "s": "{\\"a\\": 1, \\"a\\": 2}"}';
  assert.deepEqual(parseJsonStrict(text), JSON.parse(text));
});

Deno.test("a repeated key is refused, naming the key and where its object is", () => {
  assert.throws(
    () => parseJsonStrict('{"meter_id": "a", "meter_id": "b"}'),
    (e: DuplicateKeyError) => e.key === "meter_id" && e.path === "$",
  );
  const nested = findDuplicateKey(
    '[{"timestamp": "t", "value": 1}, {"timestamp": "t", "value": 1, "value": 2}]',
  );
  assert.equal(nested?.key, "value");
  assert.equal(nested?.path, "$[1]");
  const deeper = findDuplicateKey('{"options": {"epochs": 1, "epochs": 2}}');
  assert.equal(deeper?.path, "$.options");
});

Deno.test("keys equal once unescaped are the same key; equal keys in different objects are not", () => {
  assert.equal(findDuplicateKey('{"a": 1, "\\u0061": 2}')?.key, "a");
  assert.equal(findDuplicateKey('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}'), null);
  assert.equal(findDuplicateKey('{"x\\\\": 1, "y": "\\\\", "z": "\\""}'), null);
});

Deno.test("not JSON is a SyntaxError, as with JSON.parse", () => {
  assert.throws(() => parseJsonStrict("{"), SyntaxError);
});

Deno.test("a large body of many objects is scanned without recursion", () => {
  const items = Array.from({ length: 60_000 }, (_, i) => ({ timestamp: `t${i}`, value: i }));
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  assert.equal(findDuplicateKey(JSON.stringify(items)), null);
  assert.equal(findDuplicateKey(deep), null);
});
