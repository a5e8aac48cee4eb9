import assert from "node:assert/strict";
import type { Task } from "../src/domain/task.ts";
import { createView, etaText, lossText, statusLine } from "./view.ts";

const base: Task = {
  task_id: "t1",
  meter_id: "m1",
  meter_type: "electricity",
  status: "TRAINING_MODEL",
  progress: 40,
  message: "Epoch 3 of 30",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:02.000Z",
  estimated_completion: "2026-01-01T00:01:07.000Z",
  result: null,
  error: null,
  error_details: null,
  attempt: 1,
  options: { epochs: 30, batch_size: 256, learning_rate: 0.003 },
  metrics: { epoch: 3, epochs: 30, loss: 0.123456, val_loss: 0.2 },
};
const now = Date.parse("2026-01-01T00:00:02.000Z");

Deno.test("ETA and loss in short words", () => {
  assert.equal(etaText(base, now), "1m 05s");
  assert.equal(etaText({ ...base, estimated_completion: null }, now), "");
  assert.equal(etaText(base, now + 10 * 60_000), "");
  assert.equal(lossText(base), "0.1235");
  assert.equal(lossText({ ...base, metrics: null }), "");
});

Deno.test("a status line has the status, progress, epoch, loss, ETA and message", () => {
  assert.equal(
    statusLine(base, now),
    "00:00:02 electricity/m1 TRAINING_MODEL 40% epoch 3/30 loss 0.1235 ETA 1m 05s: Epoch 3 of 30",
  );
});

Deno.test("without a terminal: one line per status change, then how each task ended", () => {
  const lines: string[] = [];
  const view = createView("lines", (l) => lines.push(l));
  const at = (task: Task) => ({ kind: "status" as const, task, id: "1-0", receivedAt: now });
  view.event(at({ ...base, status: "PENDING", progress: 0 }));
  view.event(at(base));
  view.event(at({ ...base, progress: 50 }));
  view.event({ kind: "heartbeat", data: { type: "heartbeat" }, receivedAt: now });
  const done = { ...base, status: "SUCCESS" as const, progress: 100, message: "Trained" };
  view.event(at(done));
  view.end([done]);
  assert.equal(lines.length, 4);
  assert.match(lines[0], / PENDING 0%/);
  assert.match(lines[1], / TRAINING_MODEL 40%/);
  assert.match(lines[2], / SUCCESS 100%/);
  assert.match(lines[3], /^electricity\/m1 \(task t1\): SUCCESS after 2\.0 s\. Trained$/);
});

Deno.test("--json: every event, one JSON object a line", () => {
  const lines: string[] = [];
  const view = createView("json", (l) => lines.push(l));
  view.event({ kind: "status", task: base, id: "1-0", receivedAt: now });
  view.event({ kind: "heartbeat", data: { type: "heartbeat", task_id: "t1" }, receivedAt: now });
  view.end([base]);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [base, { type: "heartbeat", task_id: "t1" }]);
});
