/**
 * `?events=` keeps only the kinds of event a client asks for (status,
 * heartbeat, error); the stream still ends with the task.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import { openStream, readUntil, type SseMessage } from "./sse_client.ts";

const kindOf = (m: SseMessage) => JSON.parse(m.data).type ?? "status";

Deno.test("?events= filters a task's stream, which still ends when the task does", async () => {
  const service = await startTestService({ HEARTBEAT_INTERVAL_SECONDS: "0.1" });
  try {
    const task = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const url = `${service.url}/trainmodel/stream/${task.task_id}`;
    const statusOnly = await openStream(`${url}?events=status`);
    const beatsOnly = await openStream(`${url}?events=heartbeat`);
    const both = await openStream(`${url}?events=status,heartbeat`);
    const seen = { statusOnly: [] as SseMessage[], beatsOnly: [] as SseMessage[] };
    await readUntil(both, (m) => kindOf(m) === "heartbeat");
    await readUntil(beatsOnly, (m) => (seen.beatsOnly.push(m), seen.beatsOnly.length === 3));
    await readUntil(
      statusOnly,
      (m) => (seen.statusOnly.push(m), JSON.parse(m.data).metrics?.epoch >= 1),
    );
    await new Promise((r) => setTimeout(r, 300)); // heartbeats were due meanwhile

    await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
    for await (const m of statusOnly.messages) seen.statusOnly.push(m); // ends with the task
    for await (const m of beatsOnly.messages) seen.beatsOnly.push(m);
    both.close();

    assert.deepEqual([...new Set(seen.statusOnly.map(kindOf))], ["status"]);
    assert.ok(seen.statusOnly.every((m) => m.id), "status events carry their ids");
    assert.equal(JSON.parse(seen.statusOnly.at(-1)!.data).status, "CANCELLED");
    assert.deepEqual([...new Set(seen.beatsOnly.map(kindOf))], ["heartbeat"]);
    assert.ok(seen.beatsOnly.length >= 3);

    for (const bad of ["bogus", "", "status,nope"]) {
      const response = await fetch(`${url}?events=${bad}`);
      assert.equal(response.status, 422, bad);
      const error = (await response.json()).error;
      assert.equal(error.details.fields[0].field, "events");
      assert.match(error.message, /status, heartbeat, error/);
    }
  } finally {
    await service.close();
  }
});
