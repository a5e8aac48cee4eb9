import assert from "node:assert/strict";
import {
  ANONYMOUS,
  matchesPattern,
  mayUseMeter,
  parseScopes,
  type Principal,
} from "./principal.ts";

Deno.test("meter patterns: * stands for any run of characters, and nothing else is special", () => {
  const cases: [string, string, boolean][] = [
    ["b1*", "b1", true],
    ["b1*", "b10_main", true],
    ["b1*", "xb1", false],
    ["*_main", "b21_main", true],
    ["*_main", "b21_main2", false],
    ["b*_m*n", "b21_main", true],
    ["b*_m*n", "b21_mai", false],
    ["a*a", "a", false],
    ["a*a", "aa", true],
    ["exact", "exact", true],
    ["exact", "exactly", false],
    ["*", "anything", true],
    ["b.1", "bx1", false],
  ];
  for (const [pattern, id, expected] of cases) {
    assert.equal(matchesPattern(pattern, id), expected, `${pattern} ~ ${id}`);
  }
});

Deno.test("a restricted principal may use only the meters its patterns match", () => {
  const restricted: Principal = { ...ANONYMOUS, name: "b1 team", meters: ["b1*", "gas_7"] };
  assert.ok(mayUseMeter(restricted, { meter_id: "b1_main" }));
  assert.ok(mayUseMeter(restricted, { meter_id: "gas_7" }));
  assert.ok(!mayUseMeter(restricted, { meter_id: "b2_main" }));
  assert.ok(mayUseMeter(ANONYMOUS, { meter_id: "b2_main" }));
  assert.ok(!mayUseMeter({ ...restricted, meters: [] }, { meter_id: "b1" }));
});

Deno.test("scopes read from the space-separated claim or a comma list", () => {
  assert.deepEqual(parseScopes("read train"), new Set(["read", "train"]));
  assert.deepEqual(parseScopes("read,admin"), new Set(["read", "admin"]));
  assert.equal(parseScopes("read write"), null);
  assert.deepEqual(parseScopes(""), new Set());
});
