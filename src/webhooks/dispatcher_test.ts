import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { jobOf, sampleTask } from "../broker/broker_conformance.ts";
import type { Broker } from "../broker/broker.ts";
import { type AttemptOutcome, createDispatcher } from "./dispatcher.ts";
import { startReceiver } from "../../tests/webhook_receiver.ts";
import { subscriptionTarget, type WebhookSubscription } from "../domain/webhook.ts";
import { newSecret } from "./message.ts";

function subscription(url: string, events: "final" | "all"): WebhookSubscription {
  return {
    id: `wh_${crypto.randomUUID().slice(0, 8)}`,
    url,
    events,
    format: "standard",
    secret: newSecret(),
    created_at: new Date().toISOString(),
    disabled_at: null,
    disabled_reason: null,
  };
}

/** Runs a task through PENDING → FETCHING_DATA → FAILURE. */
async function runTask(broker: Broker): Promise<string> {
  const task = sampleTask();
  const created = await broker.createTask(task, jobOf(task));
  assert.ok(created.created);
  const fetching = await broker.commitTask({ ...task, status: "FETCHING_DATA" }, created.event.id);
  assert.ok(fetching.committed);
  const failed = await broker.commitTask({ ...task, status: "FAILURE" }, fetching.event.id);
  assert.ok(failed.committed);
  return task.task_id;
}

function dispatcherOn(
  broker: Broker,
  outcomes: AttemptOutcome[] = [],
  allowPrivate = true,
  schedule = [100, 100],
) {
  return createDispatcher({
    broker,
    secret: null,
    schedule,
    allowPrivate,
    timeoutMs: 2000,
    pollMs: 20,
    onAttempt: (outcome) => outcomes.push(outcome),
  });
}

async function settle(broker: Broker, target: string, count: number) {
  for (let i = 0; i < 200; i++) {
    const listed = await broker.webhooks.listDeliveries(target as `subscription:${string}`, 100);
    if (listed.length >= count && listed.every((d) => d.state !== "pending")) return listed;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("The deliveries did not settle");
}

Deno.test("dispatcher: from its first start on, each event reaches each matching subscription once, even with two dispatchers", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const receiver = startReceiver([200]);
  const one = dispatcherOn(broker);
  const two = dispatcherOn(broker);
  try {
    await runTask(broker); // before any dispatcher: not notified
    const all = subscription(receiver.url, "all");
    const final = subscription(receiver.url, "final");
    await broker.webhooks.putSubscription(all);
    await broker.webhooks.putSubscription(final);
    await one.start();
    await two.start();
    const taskId = await runTask(broker);
    one.wake();
    two.wake();
    const toAll = await settle(broker, subscriptionTarget(all.id), 3);
    const toFinal = await settle(broker, subscriptionTarget(final.id), 1);
    assert.deepEqual(toAll.map((d) => d.task_status).reverse(), [
      "PENDING",
      "FETCHING_DATA",
      "FAILURE",
    ]);
    assert.deepEqual(toFinal.map((d) => d.task_status), ["FAILURE"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(receiver.received.length, 4, "three events to one, the final one to the other");
    assert.ok(receiver.received.every((r) => JSON.parse(r.body).task_id === taskId));
  } finally {
    await one.stop();
    await two.stop();
    await receiver.close();
    await broker.close();
  }
});

Deno.test("dispatcher: a deleted subscription's pending delivery is dropped, not sent", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const receiver = startReceiver([500]);
  const outcomes: AttemptOutcome[] = [];
  // The retry comes a second later: time enough to delete the subscription first.
  const dispatcher = dispatcherOn(broker, outcomes, true, [1000]);
  try {
    const s = subscription(receiver.url, "final");
    await broker.webhooks.putSubscription(s);
    await dispatcher.start();
    await runTask(broker);
    dispatcher.wake();
    await receiver.waitFor(1);
    await broker.webhooks.deleteSubscription(s.id);
    const [delivery] = await settle(broker, subscriptionTarget(s.id), 1);
    assert.equal(delivery.state, "failed");
    assert.equal(delivery.history.at(-1)!.error, "the subscription was deleted");
    assert.equal(receiver.received.length, 1);
    assert.deepEqual(outcomes, ["retry", "failed"]);
  } finally {
    await dispatcher.stop();
    await receiver.close();
    await broker.close();
  }
});

Deno.test("dispatcher: a URL that resolves to a private address is not sent to, and a replay gets one attempt", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const receiver = startReceiver([200]);
  const outcomes: AttemptOutcome[] = [];
  const dispatcher = dispatcherOn(broker, outcomes, false);
  try {
    // Stored as if it had passed the check when it was created (DNS may change since).
    const s = subscription(receiver.url, "final");
    await broker.webhooks.putSubscription(s);
    await dispatcher.start();
    await runTask(broker);
    dispatcher.wake();
    const [delivery] = await settle(broker, subscriptionTarget(s.id), 1);
    assert.equal(delivery.state, "failed");
    assert.equal(delivery.attempts, 3, "the first attempt and two retries");
    assert.match(delivery.history[0].error!, /Not sent: the URL 127\.0\.0\.1 is a loopback/);
    assert.deepEqual(outcomes, ["refused", "refused", "refused"]);
    assert.equal(receiver.received.length, 0);
    assert.ok((await broker.webhooks.replay(delivery.id, Date.now())).replayed);
    dispatcher.wake();
    const [replayed] = await settle(broker, subscriptionTarget(s.id), 1);
    assert.equal(replayed.attempts, 4, "one attempt, no retries after a replay");
    assert.equal(replayed.state, "failed");
  } finally {
    await dispatcher.stop();
    await receiver.close();
    await broker.close();
  }
});

Deno.test("dispatcher: stopping cuts an attempt in flight short and records nothing; it is made again later", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let requests = 0;
  const slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    requests++;
    await held;
    return new Response(null, { status: 204 });
  });
  const outcomes: AttemptOutcome[] = [];
  // An attempt would wait a minute for its answer.
  const dispatcher = createDispatcher({
    broker,
    secret: null,
    schedule: [100],
    allowPrivate: true,
    timeoutMs: 60_000,
    pollMs: 20,
    onAttempt: (outcome) => outcomes.push(outcome),
  });
  try {
    const s = subscription(`http://127.0.0.1:${slow.addr.port}/`, "final");
    await broker.webhooks.putSubscription(s);
    await dispatcher.start();
    await runTask(broker);
    dispatcher.wake();
    while (requests === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      dispatcher.stop().then(() => "stopped"),
      new Promise((resolve) => (timer = setTimeout(() => resolve("still waiting"), 10_000))),
    ]);
    clearTimeout(timer);
    assert.equal(stopped, "stopped", "the stop did not wait for the receiver's answer");
    const [delivery] = await broker.webhooks.listDeliveries(subscriptionTarget(s.id), 10);
    assert.equal(delivery.state, "pending");
    assert.equal(delivery.attempts, 0);
    assert.deepEqual(outcomes, []);
  } finally {
    release();
    await dispatcher.stop();
    await slow.shutdown();
    await broker.close();
  }
});

Deno.test("dispatcher: events trimmed from the log before they were read are not lost in silence", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60, maxAllEvents: 3 });
  const receiver = startReceiver([200]);
  const warnings: string[] = [];
  const options = {
    broker,
    secret: null,
    schedule: [100],
    allowPrivate: true,
    timeoutMs: 2000,
    pollMs: 20,
    warn: (message: string) => warnings.push(message),
  };
  const first = createDispatcher(options);
  const second = createDispatcher(options);
  try {
    await broker.webhooks.putSubscription(subscription(receiver.url, "final"));
    await first.start(); // marks the log's head
    await first.stop();
    // While no dispatcher runs, more events than the log keeps.
    for (let i = 0; i < 3; i++) await runTask(broker);
    await second.start();
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /gone from the log/);
  } finally {
    await second.stop();
    await receiver.close();
    await broker.close();
  }
});

Deno.test("dispatcher: a receiver that never answers does not hold back another receiver's deliveries", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  // Takes every request and answers none until it is closed.
  const hung = new AbortController();
  let hanging = 0;
  const dead = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, signal: hung.signal },
    async () => {
      hanging++;
      await new Promise((resolve) => hung.signal.addEventListener("abort", resolve));
      return new Response("late", { status: 500 });
    },
  );
  const healthy = startReceiver([200]);
  const dispatcher = createDispatcher({
    broker,
    secret: null,
    schedule: [60_000],
    allowPrivate: true,
    timeoutMs: 60_000,
    pollMs: 20,
  });
  try {
    const stuck = subscription(`http://127.0.0.1:${dead.addr.port}/`, "all");
    await broker.webhooks.putSubscription(stuck);
    await dispatcher.start();
    // Twelve deliveries to the receiver that never answers, more than a pass claims at once.
    for (let i = 0; i < 4; i++) await runTask(broker);
    dispatcher.wake();
    for (let i = 0; i < 100 && hanging === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(hanging > 0, "the dead receiver is being tried");

    const fine = subscription(healthy.url, "final");
    await broker.webhooks.putSubscription(fine);
    const taskId = await runTask(broker);
    dispatcher.wake();
    // Within 15 s, though every attempt at the dead receiver waits 60 s for an answer.
    const arrived = await Promise.race([
      healthy.waitFor(1).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    assert.ok(arrived, "the healthy receiver got its delivery while the other hung");
    assert.equal(JSON.parse(healthy.received[0].body).task_id, taskId);
    assert.ok(hanging <= 2, `at most 2 attempts at once at one receiver (${hanging})`);
  } finally {
    await dispatcher.stop();
    hung.abort();
    await dead.finished;
    await healthy.close();
    await broker.close();
  }
});
