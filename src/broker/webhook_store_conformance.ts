/**
 * The behaviour every broker's webhook store must have, run against each
 * (`webhook_store_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Broker } from "./broker.ts";
import {
  subscriptionTarget,
  taskTarget,
  type WebhookDelivery,
  type WebhookSubscription,
} from "../domain/webhook.ts";

/** Builds a fresh, empty broker for one test. */
export type StoreBrokerFactory = () => Promise<Broker>;

/** A pending delivery for tests. */
export function sampleDelivery(overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  const taskId = crypto.randomUUID();
  return {
    id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
    target: taskTarget(taskId),
    url: "https://example.com/hook",
    format: "standard",
    task_id: taskId,
    event_id: "1-0",
    task_status: "SUCCESS",
    payload: JSON.stringify({ task_id: taskId, status: "SUCCESS" }),
    created_at: new Date().toISOString(),
    state: "pending",
    attempts: 0,
    retries: 0,
    manual: false,
    next_attempt_at: Date.now(),
    claimed_by: null,
    history: [],
    ...overrides,
  };
}

function sampleSubscription(): WebhookSubscription {
  return {
    id: `wh_${crypto.randomUUID().slice(0, 8)}`,
    url: "https://example.com/hook",
    events: "final",
    format: "standard",
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    created_at: new Date().toISOString(),
    disabled_at: null,
    disabled_reason: null,
  };
}

/** Registers the suite for one broker. */
export function webhookStoreConformance(
  name: string,
  open: StoreBrokerFactory,
  testOptions: Partial<Deno.TestDefinition> = {},
): void {
  const test = (title: string, fn: (broker: Broker) => Promise<void>) =>
    Deno.test({
      ...testOptions,
      name: `${name} webhook store: ${title}`,
      fn: async () => {
        const broker = await open();
        try {
          await fn(broker);
        } finally {
          await broker.close();
        }
      },
    });

  test("keeps, lists, disables and deletes subscriptions", async ({ webhooks }) => {
    const a = sampleSubscription();
    const b = { ...sampleSubscription(), created_at: new Date(Date.now() + 1).toISOString() };
    await webhooks.putSubscription(a);
    await webhooks.putSubscription(b);
    assert.deepEqual(await webhooks.getSubscription(a.id), a);
    assert.deepEqual((await webhooks.listSubscriptions()).map((s) => s.id), [a.id, b.id]);
    assert.equal(await webhooks.disableSubscription(a.id, "2026-01-01T00:00:00.000Z", "410"), true);
    assert.equal((await webhooks.getSubscription(a.id))!.disabled_reason, "410");
    assert.equal(await webhooks.deleteSubscription(a.id), true);
    assert.equal(await webhooks.deleteSubscription(a.id), false);
    assert.equal(await webhooks.getSubscription(a.id), null);
    assert.equal(await webhooks.disableSubscription(a.id, "2026-01-01T00:00:00.000Z", "x"), false);
  });

  test("a subscription deleted while it is being disabled stays deleted", async ({ webhooks }) => {
    for (let i = 0; i < 5; i++) {
      const s = sampleSubscription();
      await webhooks.putSubscription(s);
      // A dispatcher disables it (a 410) as an admin deletes it.
      await Promise.all([
        webhooks.disableSubscription(s.id, "2026-01-01T00:00:00.000Z", "410"),
        webhooks.deleteSubscription(s.id),
      ]);
      assert.equal(await webhooks.getSubscription(s.id), null, `round ${i}: it came back`);
    }
  });

  test("keeps a task's notify target until deleted", async ({ webhooks }) => {
    const taskId = crypto.randomUUID();
    assert.equal(await webhooks.getTaskNotify(taskId), null);
    const notify = { task_id: taskId, url: "https://example.com/", format: "slack" as const };
    await webhooks.putTaskNotify(notify, 60);
    assert.deepEqual(await webhooks.getTaskNotify(taskId), notify);
    await webhooks.deleteTaskNotify(taskId);
    assert.equal(await webhooks.getTaskNotify(taskId), null);
  });

  test("enqueues a delivery once per id", async ({ webhooks }) => {
    const d = sampleDelivery();
    assert.equal(await webhooks.enqueue(d), true);
    assert.equal(await webhooks.enqueue({ ...d, url: "https://other.example/" }), false);
    assert.deepEqual(await webhooks.getDelivery(d.id), d);
  });

  test("claims only due deliveries, one claimant at a time, until the lease runs out", async ({ webhooks }) => {
    const now = Date.now();
    const due = sampleDelivery({ next_attempt_at: now - 10 });
    const later = sampleDelivery({ next_attempt_at: now + 60_000 });
    await webhooks.enqueue(due);
    await webhooks.enqueue(later);
    const first = (await webhooks.claimDue("a", now, 1000, 10)).claimed;
    assert.deepEqual(first.map((d) => d.id), [due.id]);
    assert.equal(first[0].claimed_by, "a");
    assert.deepEqual((await webhooks.claimDue("b", now + 500, 1000, 10)).claimed, [], "held by a");
    const again = (await webhooks.claimDue("b", now + 1001, 1000, 10)).claimed;
    assert.deepEqual(again.map((d) => d.id), [due.id], "a's lease ran out");
    assert.equal(await webhooks.finishAttempt({ ...first[0], state: "delivered" }, "a"), false);
  });

  test("an attempt's outcome is stored by the claimant: retried later, or settled", async ({ webhooks }) => {
    const now = Date.now();
    const d = sampleDelivery({ next_attempt_at: now });
    await webhooks.enqueue(d);
    const [claimed] = (await webhooks.claimDue("a", now, 30_000, 10)).claimed;
    const attempt = {
      attempt: 1,
      at: new Date(now).toISOString(),
      status_code: 500,
      error: "HTTP 500",
      duration_ms: 3,
    };
    const retry = {
      ...claimed,
      attempts: 1,
      retries: 1,
      next_attempt_at: now + 5000,
      history: [attempt],
    };
    assert.equal(await webhooks.finishAttempt(retry, "a"), true);
    const stored = await webhooks.getDelivery(d.id);
    assert.deepEqual(stored, { ...retry, claimed_by: null });
    assert.deepEqual((await webhooks.claimDue("a", now + 4999, 30_000, 10)).claimed, []);
    const [second] = (await webhooks.claimDue("b", now + 5000, 30_000, 10)).claimed;
    assert.equal(second.id, d.id);
    const done = { ...second, state: "delivered" as const, attempts: 2, next_attempt_at: null };
    assert.equal(await webhooks.finishAttempt(done, "b"), true);
    assert.equal((await webhooks.getDelivery(d.id))!.state, "delivered");
    assert.deepEqual((await webhooks.claimDue("c", now + 10_000_000, 30_000, 10)).claimed, []);
    assert.equal(await webhooks.finishAttempt(done, "b"), false, "settled already");
  });

  test("replays a settled delivery with the same id, once; not a pending one", async ({ webhooks }) => {
    const now = Date.now();
    const d = sampleDelivery({ next_attempt_at: now });
    await webhooks.enqueue(d);
    assert.equal((await webhooks.replay(d.id, now)).replayed, false);
    const [claimed] = (await webhooks.claimDue("a", now, 30_000, 10)).claimed;
    await webhooks.finishAttempt(
      { ...claimed, state: "failed", next_attempt_at: null, retries: 3 },
      "a",
    );
    const result = await webhooks.replay(d.id, now + 1);
    assert.equal(result.replayed, true);
    assert.equal(result.delivery!.id, d.id);
    assert.equal(result.delivery!.manual, true);
    assert.equal(result.delivery!.retries, 0);
    const [again] = (await webhooks.claimDue("b", now + 1, 30_000, 10)).claimed;
    assert.equal(again.id, d.id);
    assert.equal(again.state, "pending");
    assert.deepEqual(await webhooks.replay("msg_unknown", now), {
      replayed: false,
      delivery: null,
    });
  });

  test("lists a target's deliveries newest first", async ({ webhooks }) => {
    const target = subscriptionTarget("wh_list");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = sampleDelivery({ target, created_at: new Date(Date.now() + i).toISOString() });
      ids.push(d.id);
      await webhooks.enqueue(d);
    }
    await webhooks.enqueue(sampleDelivery());
    assert.deepEqual((await webhooks.listDeliveries(target, 10)).map((d) => d.id), ids.reverse());
    assert.equal((await webhooks.listDeliveries(target, 2)).length, 2);
  });

  test("a claim says when the next pending delivery is due", async ({ webhooks }) => {
    const now = Date.now();
    assert.equal((await webhooks.claimDue("a", now, 1000, 10)).nextDueAt, null, "nothing pending");
    await webhooks.enqueue(sampleDelivery({ next_attempt_at: now + 7000 }));
    await webhooks.enqueue(sampleDelivery({ next_attempt_at: now - 5 }));
    const claim = await webhooks.claimDue("a", now, 1000, 10);
    assert.equal(claim.claimed.length, 1);
    assert.equal(claim.nextDueAt, now + 1000, "the claimed one's lease ends first");
    const [claimed] = claim.claimed;
    await webhooks.finishAttempt({ ...claimed, state: "delivered", next_attempt_at: null }, "a");
    assert.equal((await webhooks.claimDue("a", now, 1000, 10)).nextDueAt, now + 7000);
  });

  test("the cursor moves forward only", async ({ webhooks }) => {
    assert.equal(await webhooks.getCursor(), null);
    await webhooks.advanceCursor("100-2");
    await webhooks.advanceCursor("99-9");
    assert.equal(await webhooks.getCursor(), "100-2");
    await webhooks.advanceCursor("100-10");
    assert.equal(await webhooks.getCursor(), "100-10");
  });
}
