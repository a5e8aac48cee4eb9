/**
 * Pending webhook deliveries survive the process: `deno task dev`
 * (embedded mode, SQLite under DATA_DIR) is killed with SIGKILL between
 * two attempts, and again while an attempt is in flight; each time it is
 * started again on the same DATA_DIR, and the receiver still gets the
 * delivery, under the same webhook-id, until it accepts it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { startDev } from "./processes.ts";
import { freePort } from "./redis_server.ts";
import type { Task } from "../src/domain/task.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

Deno.test("embedded mode: a pending webhook delivery survives SIGKILL between attempts and during one", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-webhook-restart-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOW_PRIVATE: "true",
    WEBHOOK_RETRY_SCHEDULE: "2,2,2,2",
    WEBHOOK_POLL_SECONDS: "0.2",
  };
  // 1st attempt: 500. 2nd: the service is killed while it waits for the answer. 3rd: 200.
  const received: { headers: Record<string, string>; body: string }[] = [];
  let second: () => void = () => {};
  const secondArrived = new Promise<void>((resolve) => (second = resolve));
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push({ headers: Object.fromEntries(request.headers), body: await request.text() });
      const n = received.length;
      if (n === 2) {
        second();
        await released;
      }
      return new Response(null, { status: n === 1 ? 500 : 200 });
    },
  );
  const hook = `http://127.0.0.1:${receiver.addr.port}/hook`;
  let dev = await startDev(env);
  try {
    const started = await fetch(`${url}/trainmodel/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        meter_id: "meter_test_001",
        meter_type: "electricity",
        epochs: 2,
        notify: { url: hook },
      }),
    });
    const task = await started.json() as Task;
    assert.equal(started.status, 202, JSON.stringify(task));
    const deliveries = async () =>
      (await (await fetch(`${url}/webhooks/tasks/${task.task_id}/deliveries`)).json()).deliveries;

    // Killed after the first attempt was recorded, before the retry is due (2 s later).
    for (;;) {
      const [delivery] = await deliveries();
      if (delivery?.attempts === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await dev.kill();
    assert.equal(received.length, 1);

    dev = await startDev(env);
    await secondArrived;
    await dev.kill(); // while the receiver holds the second attempt's answer
    release();

    dev = await startDev(env);
    for (;;) {
      const [delivery] = await deliveries();
      if (delivery?.state === "delivered") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((r) => r.headers["webhook-id"])).size, 1, "one webhook-id");
    for (const r of received) {
      const sent = new Webhook(SECRET).verify(r.body, r.headers) as Task;
      assert.equal(sent.task_id, task.task_id);
      assert.equal(sent.status, "SUCCESS");
    }
    const [delivery] = await deliveries();
    // The attempt killed in flight left no record; the other two did.
    assert.deepEqual(delivery.history.map((a: { status_code: number }) => a.status_code), [
      500,
      200,
    ]);
  } finally {
    await dev.kill();
    await receiver.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
