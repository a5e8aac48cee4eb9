import assert from "node:assert/strict";
import type { Task } from "../src/domain/task.ts";
import { type CompareReport, compareTable, median } from "./compare.ts";

Deno.test("median of odd and even counts, none when empty", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
});

Deno.test("the table shows each method's numbers and the ratios between them", () => {
  const report: CompareReport = {
    taskId: "t1",
    seconds: 300.04,
    final: { status: "SUCCESS" } as Task,
    polling: {
      method: "polling every 2 s",
      requests: 150,
      bytes: 120_500,
      changes: 40,
      delaysMs: [900, 1100, 1000],
      gzipped: 0,
    },
    stream: {
      method: "stream",
      requests: 1,
      bytes: 12_050,
      changes: 200,
      delaysMs: [2, 3],
      gzipped: 0,
    },
  };
  const lines = compareTable(report);
  assert.equal(lines[2], "| polling every 2 s | 150 | 120,500 | 40 | 1,000 |");
  assert.equal(lines[3], "| stream | 1 | 12,050 | 200 | 3 |");
  assert.match(lines[5], /after 300\.0 s/);
  assert.match(lines[5], /150× fewer requests and received 10\.0× fewer bytes/);
  const more = compareTable({ ...report, stream: { ...report.stream, bytes: 241_000 } });
  assert.match(more[5], /2\.0× more bytes/);
});
