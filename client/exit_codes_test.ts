import assert from "node:assert/strict";
import { ClientExit, EXIT, exitCodeForStatus } from "./exit_codes.ts";

Deno.test("HTTP answers map to exit codes: 404 unknown, 422 and 409 bad arguments, 5xx unreachable", () => {
  assert.equal(exitCodeForStatus(404), EXIT.unknownTask);
  assert.equal(exitCodeForStatus(422), EXIT.badArguments);
  assert.equal(exitCodeForStatus(409), EXIT.badArguments);
  assert.equal(exitCodeForStatus(503), EXIT.unreachable);
});

Deno.test("the codes are distinct and as documented", () => {
  assert.deepEqual(
    [EXIT.success, EXIT.failure, EXIT.badArguments, EXIT.cancelled, EXIT.unknownTask],
    [0, 1, 2, 3, 4],
  );
  assert.equal(EXIT.unreachable, 5);
  assert.equal(EXIT.interrupted, 130);
  const exit = new ClientExit(EXIT.unknownTask, "no such task");
  assert.equal(exit.code, 4);
  assert.equal(exit.message, "no such task");
});
