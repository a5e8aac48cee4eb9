import assert from "node:assert/strict";
import { createMetrics } from "./metrics.ts";
import type { Task, TaskEvent } from "../domain/task.ts";

function event(status: Task["status"], updatedAt: number, details?: object): TaskEvent {
  return {
    id: `${updatedAt}-0`,
    task: {
      task_id: "t",
      status,
      updated_at: new Date(updatedAt).toISOString(),
      result: details ? { details } : null,
    } as unknown as Task,
  };
}

async function values(name: string, metrics = createMetrics()) {
  const json = await metrics.registry.getMetricsAsJSON();
  return (json.find((m) => m.name === name)?.values ?? []) as {
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
  }[];
}

Deno.test("delivery delay is timed only for events committed while the stream was open", async () => {
  const metrics = createMetrics();
  const openedAt = Date.now() - 1000;
  metrics.delivered(
    [event("PENDING", openedAt - 5000), event("SUCCESS", openedAt + 500)],
    openedAt,
  );
  const delivered = await values("wattcast_stream_events_delivered_total", metrics);
  assert.equal(delivered[0].value, 2);
  const delay = await values("wattcast_event_delivery_delay_seconds", metrics);
  const count = delay.find((v) => v.metricName === "wattcast_event_delivery_delay_seconds_count");
  const sum = delay.find((v) => v.metricName === "wattcast_event_delivery_delay_seconds_sum");
  assert.equal(count?.value, 1);
  assert.ok(sum!.value >= 0.4 && sum!.value < 60, `${sum!.value}`);
});

Deno.test("a successful task's training time and epochs per second are observed; others are not", async () => {
  const metrics = createMetrics();
  metrics.taskChanged(event("TRAINING_MODEL", Date.now()).task);
  metrics.taskChanged(
    event("SUCCESS", Date.now(), { training_time_seconds: 4, epochs: 20 }).task,
  );
  const rate = await values("wattcast_training_epochs_per_second", metrics);
  assert.equal(
    rate.find((v) => v.metricName === "wattcast_training_epochs_per_second_sum")?.value,
    5,
  );
  const changes = await values("wattcast_task_status_changes_total", metrics);
  assert.deepEqual(
    changes.map((v) => [v.labels.status, v.value]).sort(),
    [["SUCCESS", 1], ["TRAINING_MODEL", 1]],
  );
});

Deno.test("an open stream is counted once, however often its close runs", async () => {
  const metrics = createMetrics();
  const closed = metrics.streamOpened();
  metrics.streamOpened();
  closed();
  closed();
  assert.equal((await values("wattcast_open_streams", metrics))[0].value, 1);
});
