import assert from "node:assert/strict";
import { parseBatch, parseClientArgs } from "./args.ts";
import { ClientExit } from "./exit_codes.ts";

function refused(args: string[], words: RegExp): void {
  assert.throws(() => parseClientArgs(args), (error: unknown) => {
    assert.ok(error instanceof ClientExit);
    assert.equal(error.code, 2);
    assert.match(error.message, words);
    return true;
  });
}

Deno.test("a task id to follow, with the defaults", () => {
  const o = parseClientArgs(["0b0e0c1a-0000-4000-8000-000000000001"]);
  assert.equal(o.url, "http://localhost:8000");
  assert.deepEqual(o.taskIds, ["0b0e0c1a-0000-4000-8000-000000000001"]);
  assert.equal(o.json, false);
  assert.equal(o.compare, false);
  assert.equal(o.token, null);
  assert.deepEqual(o.meters, []);
});

Deno.test("--new with a meter, --url without its trailing slash, the token from the environment", () => {
  const o = parseClientArgs(
    ["--new", "--meter-id", "m1", "--meter-type", "gas", "--url", "http://h:9/", "--json"],
    { WATTCAST_TOKEN: "secret" },
  );
  assert.deepEqual(o.meters, [{ meter_id: "m1", meter_type: "gas" }]);
  assert.equal(o.url, "http://h:9");
  assert.equal(o.token, "secret");
  assert.equal(o.json, true);
  assert.equal(parseClientArgs(["x", "--token", "flag"], { WATTCAST_TOKEN: "env" }).token, "flag");
});

Deno.test("--batch takes id:type pairs, comma separated or repeated", () => {
  const o = parseClientArgs(["--batch", "b1:electricity,b2:gas", "--batch", "b3:water"]);
  assert.deepEqual(o.meters.map((m) => `${m.meter_id}:${m.meter_type}`), [
    "b1:electricity",
    "b2:gas",
    "b3:water",
  ]);
  assert.deepEqual(parseBatch(" a:gas , "), [{ meter_id: "a", meter_type: "gas" }]);
});

Deno.test("training options go with new tasks", () => {
  const o = parseClientArgs(["--new", "--meter-id", "m", "--meter-type", "gas", "--epochs", "40"]);
  assert.equal(o.training.epochs, 40);
  refused(["abc", "--epochs", "4"], /apply to new tasks/);
  refused(["--new", "--meter-id", "m", "--meter-type", "gas", "--epochs", "0"], /whole number/);
});

Deno.test("mistakes are named", () => {
  refused([], /Name a task id/);
  refused(["--nope"], /nope/);
  refused(["--new", "--meter-id", "m"], /--new needs both/);
  refused(["--new", "--meter-id", "m", "--meter-type", "oil"], /"oil" is not a meter type/);
  refused(["--new", "--meter-id", "bad id", "--meter-type", "gas"], /"bad id"/);
  refused(["--batch", "b1"], /METER_ID:METER_TYPE/);
  refused(["--batch", "b1:gas,b1:gas"], /named twice/);
  refused(["--meter-id", "m", "t"], /go with --new/);
  refused(["--compare", "a", "b"], /watches one task/);
  refused(["--compare", "--batch", "a:gas,b:gas"], /watches one task/);
  refused(["--url", "ftp://x", "t"], /http/);
  refused(["--url", "not a url", "t"], /not a URL/);
  refused(["t", "--new", "--meter-id", "m", "--meter-type", "gas"], /not both/);
});

Deno.test("--help needs nothing else", () => {
  assert.equal(parseClientArgs(["--help"]).help, true);
});
