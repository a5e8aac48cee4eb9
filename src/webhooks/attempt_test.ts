import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { sampleDelivery } from "../broker/webhook_store_conformance.ts";
import { sampleTask } from "../broker/broker_conformance.ts";
import { startReceiver } from "../../tests/webhook_receiver.ts";
import { attemptDelivery, type AttemptSettings } from "./attempt.ts";

function settings(overrides: Partial<AttemptSettings> = {}): AttemptSettings {
  return {
    store: createMemoryBroker({ taskTtlSeconds: 60 }).webhooks,
    secret: null,
    schedule: [1000],
    allowPrivate: true,
    timeoutMs: 2000,
    ...overrides,
  };
}

const payload = JSON.stringify(sampleTask({ status: "SUCCESS", message: "Model trained" }));

Deno.test("attempt: a standard per-task notification is not sent without WEBHOOK_SECRET", async () => {
  const receiver = startReceiver([200]);
  try {
    const { after, outcome } = await attemptDelivery(
      sampleDelivery({ url: receiver.url, payload }),
      settings(),
    );
    assert.equal(outcome, "failed");
    assert.equal(after.state, "failed");
    assert.match(after.history[0].error!, /WEBHOOK_SECRET is not set/);
    assert.equal(receiver.received.length, 0);
  } finally {
    await receiver.close();
  }
});

Deno.test("attempt: a slack notification goes as text, signed only when there is a key", async () => {
  const receiver = startReceiver([200]);
  try {
    const delivery = sampleDelivery({ url: receiver.url, payload, format: "slack" });
    assert.equal((await attemptDelivery(delivery, settings())).outcome, "delivered");
    const [unsigned] = await receiver.waitFor(1);
    assert.match(JSON.parse(unsigned.body).text, /succeeded: Model trained/);
    assert.equal(unsigned.headers["webhook-signature"], undefined);
    assert.equal(unsigned.headers["webhook-id"], delivery.id);
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    await attemptDelivery(delivery, settings({ secret }));
    const [, signed] = await receiver.waitFor(2);
    assert.match(signed.headers["webhook-signature"], /^v1,/);
  } finally {
    await receiver.close();
  }
});

Deno.test("attempt: 410 settles a task's delivery as gone; other failures retry until the schedule is spent", async () => {
  const gone = startReceiver([410]);
  const failing = startReceiver([503]);
  try {
    const s = settings({ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" });
    const first = await attemptDelivery(sampleDelivery({ url: gone.url, payload }), s);
    assert.deepEqual([first.outcome, first.after.state], ["gone", "gone"]);
    const failed = sampleDelivery({ url: failing.url, payload });
    const once = await attemptDelivery(failed, s);
    assert.equal(once.outcome, "retry");
    assert.equal(once.after.retries, 1);
    assert.ok(once.after.next_attempt_at! >= Date.now() + 800);
    const twice = await attemptDelivery(once.after, s);
    assert.deepEqual([twice.outcome, twice.after.state], ["failed", "failed"]);
    assert.deepEqual(twice.after.history.map((a) => a.attempt), [1, 2]);
    assert.equal(twice.after.history[1].status_code, 503);
  } finally {
    await gone.close();
    await failing.close();
  }
});

Deno.test("attempt: a redirect is not followed", async () => {
  const target = startReceiver([200]);
  const redirecting = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(null, { status: 307, headers: { location: target.url } }),
  );
  try {
    const { after, outcome } = await attemptDelivery(
      sampleDelivery({ url: `http://127.0.0.1:${redirecting.addr.port}/`, payload }),
      settings({ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    );
    assert.equal(outcome, "retry");
    assert.match(
      after.history[0].error!,
      /HTTP 307 \(a redirect to .*redirects are not followed\)/,
    );
    assert.equal(target.received.length, 0);
  } finally {
    await redirecting.shutdown();
    await target.close();
  }
});

Deno.test("attempt: a receiver that does not answer in time fails the attempt", async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    await held;
    return new Response("late");
  });
  try {
    const { after, outcome } = await attemptDelivery(
      sampleDelivery({ url: `http://127.0.0.1:${slow.addr.port}/`, payload }),
      settings({ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", timeoutMs: 200 }),
    );
    assert.equal(outcome, "retry");
    assert.equal(after.history[0].status_code, null);
    assert.equal(after.history[0].error, "no answer within 0.2 s");
  } finally {
    release();
    await slow.shutdown();
  }
});

Deno.test("attempt: a name that resolves elsewhere after the check (DNS rebinding) is not sent to", async () => {
  const receiver = startReceiver([200]);
  let lookups = 0;
  // Public when checked, loopback from then on: the connection must use what was checked.
  const rebinding = (_host: string) =>
    Promise.resolve(lookups++ === 0 ? ["93.184.216.34"] : ["127.0.0.1"]);
  try {
    const port = new URL(receiver.url).port;
    const { after, outcome } = await attemptDelivery(
      sampleDelivery({ url: `http://localhost:${port}/hook`, payload }),
      settings({
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        allowPrivate: false,
        resolve: rebinding,
      }),
    );
    assert.equal(receiver.received.length, 0, "the receiver on loopback was reached");
    assert.equal(outcome, "refused");
    assert.match(
      after.history[0].error!,
      /^Not sent: the URL its host localhost resolves to a loopback/,
    );
  } finally {
    await receiver.close();
  }
});
