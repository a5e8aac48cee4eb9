import assert from "node:assert/strict";
import { decodeCursor, encodeCursor, MAX_STREAM_TASKS } from "./multi_stream.ts";

Deno.test("a multi-task cursor reads back as the ids it holds, and is short", () => {
  const ids = ["1764170000123-0", null, "1764170000123-7", "0-1"];
  const cursor = encodeCursor(ids);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/, "URL- and header-safe");
  assert.deepEqual(decodeCursor(cursor, 4), ids);
  const full = encodeCursor(Array.from({ length: MAX_STREAM_TASKS }, () => "1764170000123-12"));
  assert.ok(full.length < 1700, `${full.length} characters for ${MAX_STREAM_TASKS} tasks`);
});

Deno.test("a cursor for another number of tasks, or not a cursor at all, is refused", () => {
  const cursor = encodeCursor(["1-0", "2-0"]);
  assert.equal(decodeCursor(cursor, 3), null);
  for (const bad of ["1-0", "%%%", "QSE", encodeCursor(["1-0"]) + "!", "x".repeat(5000)]) {
    assert.equal(decodeCursor(bad, 1), null, bad);
  }
});
