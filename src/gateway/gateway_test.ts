import assert from "node:assert/strict";
import { topLevelItems } from "./gateway.ts";

Deno.test("a batch's commands are counted in its text, strings and nesting skipped", () => {
  const cases: [string, number][] = [
    ["[]", 0],
    [" [ ] ", 0],
    ['[["PING"]]', 1],
    ['[["SET", "a,b", "[x]"], ["GET", "\\"],["]]', 2],
    ['[["EVAL", "return {1, 2}", "0"], ["PING"], [1, [2, 3]]]', 3],
    ['{"not": "an array"}', 0],
    ["5", 0],
  ];
  for (const [text, n] of cases) {
    assert.equal(topLevelItems(text, 100), n, text);
    if (text.startsWith("[") || text.startsWith(" [")) {
      assert.equal(topLevelItems(text, 100), JSON.parse(text).length, text);
    }
  }
  const huge = JSON.stringify(Array.from({ length: 100_000 }, () => ["PING"]));
  assert.equal(topLevelItems(huge, 1001), 1001, "counting stops at the limit");
});
