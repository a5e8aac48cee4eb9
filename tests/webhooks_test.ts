/**
 * Completion notifications end to end: the real service (embedded SQLite
 * mode unless said otherwise), real training, and webhook receivers on
 * free ports of 127.0.0.1 (hence WEBHOOK_ALLOW_PRIVATE=true in most
 * tests). Signatures are checked with the `standardwebhooks` package, as a
 * receiver would.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { startTestService, type TestService } from "./harness.ts";
import { startReceiver } from "./webhook_receiver.ts";
import type { Task } from "../src/domain/task.ts";
import { createApiKey } from "../src/auth/api_keys.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const FAST = {
  WEBHOOK_SECRET: SECRET,
  WEBHOOK_ALLOW_PRIVATE: "true",
  WEBHOOK_RETRY_SCHEDULE: "0.2,0.2,0.2",
  WEBHOOK_POLL_SECONDS: "0.1",
};

async function call(service: TestService, method: string, path: string, body?: unknown) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null, response };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 60_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("webhooks: a task's notify URL gets its final event, signed; two 500s, then accepted, with one webhook-id", async () => {
  const receiver = startReceiver([500, 500, 200]);
  const service = await startTestService(FAST);
  try {
    const started = await call(service, "POST", "/trainmodel/", {
      meter_id: "meter_test_001",
      meter_type: "electricity",
      epochs: 2,
      notify: { url: receiver.url },
    });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const taskId = started.json.task_id as string;
    assert.equal(started.json.notify.deliveries_url, `/webhooks/tasks/${taskId}/deliveries`);

    const got = await receiver.waitFor(3);
    const ids = new Set(got.map((r) => r.headers["webhook-id"]));
    assert.equal(ids.size, 1, "the same webhook-id on every attempt");
    const verifier = new Webhook(SECRET);
    for (const request of got) verifier.verify(request.body, request.headers);
    const sent = verifier.verify(got[2].body, got[2].headers) as Task;
    assert.equal(sent.task_id, taskId);
    assert.equal(sent.status, "SUCCESS");
    assert.deepEqual(sent, await service.status(taskId), "the payload is the status object");
    assert.throws(() =>
      new Webhook("whsec_" + btoa("another key of 24 bytes!")).verify(got[2].body, got[2].headers)
    );

    const listed = await until("the delivery to settle", async () => {
      const { json } = await call(service, "GET", `/webhooks/tasks/${taskId}/deliveries`);
      return json.deliveries[0]?.state === "delivered" ? json.deliveries : null;
    });
    assert.equal(listed.length, 1);
    assert.equal(listed[0].id, [...ids][0]);
    assert.equal(listed[0].attempts, 3);
    assert.deepEqual(listed[0].history.map((a: { status_code: number }) => a.status_code), [
      500,
      500,
      200,
    ]);
    assert.match(listed[0].history[0].error, /HTTP 500: answer 1/);

    // A replay: one more attempt, same id; a pending delivery cannot be replayed.
    const replay = await call(
      service,
      "POST",
      `/webhooks/tasks/${taskId}/deliveries/${listed[0].id}/replay`,
    );
    assert.equal(replay.status, 202, JSON.stringify(replay.json));
    const again = await receiver.waitFor(4);
    assert.equal(again[3].headers["webhook-id"], listed[0].id);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /wattcast_webhook_deliveries_total\{outcome="retry"\} 2/);
    assert.match(metrics, /wattcast_webhook_deliveries_total\{outcome="delivered"\} [12]/);
  } finally {
    await service.close();
    await receiver.close();
  }
});

Deno.test("webhooks: a standing subscription to every status change, verified with its own key", async () => {
  const receiver = startReceiver([200]);
  const service = await startTestService(FAST);
  try {
    const created = await call(service, "POST", "/webhooks", { url: receiver.url, events: "all" });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const { id, secret } = created.json;
    assert.match(secret, /^whsec_/);
    assert.equal(created.response.headers.get("location"), `/webhooks/${id}`);
    const shown = await call(service, "GET", `/webhooks/${id}`);
    assert.equal(shown.json.secret, undefined, "the key is shown once");
    assert.deepEqual(
      (await call(service, "GET", "/webhooks")).json.webhooks.map((w: { id: string }) => w.id),
      [id],
    );

    const task = await service.start("meter_test_001");
    await until(
      "the final event",
      () => Promise.resolve(receiver.received.some((r) => JSON.parse(r.body).status === "SUCCESS")),
    );
    // Every event's delivery settled (they are sent concurrently: the final one may come first).
    const deliveries = await until("every delivery to settle", async () => {
      const listed = (await call(service, "GET", `/webhooks/${id}/deliveries?limit=100`)).json
        .deliveries;
      return listed.every((d: { state: string }) => d.state === "delivered") && listed;
    });
    const all = receiver.received;
    const statuses = all.map((r) => (new Webhook(secret).verify(r.body, r.headers) as Task).status);
    assert.ok(statuses.includes("PENDING") && statuses.includes("TRAINING_MODEL"), statuses.join());
    assert.equal(
      new Set(all.map((r) => r.headers["webhook-id"])).size,
      all.length,
      "one id per event",
    );
    assert.ok(all.every((r) => JSON.parse(r.body).task_id === task.task_id));

    assert.equal(deliveries.length, all.length, "one delivery per event, each received once");
    assert.equal((await call(service, "GET", `/webhooks/${id}/deliveries?limit=0`)).status, 422);
    assert.equal((await call(service, "DELETE", `/webhooks/${id}`)).status, 200);
    assert.equal((await call(service, "GET", `/webhooks/${id}`)).status, 404);
  } finally {
    await service.close();
    await receiver.close();
  }
});

Deno.test("webhooks: a 410 stops the retries and disables the subscription", async () => {
  const receiver = startReceiver([410]);
  const service = await startTestService(FAST);
  try {
    const { json } = await call(service, "POST", "/webhooks", { url: receiver.url });
    await service.start("meter_test_001");
    await receiver.waitFor(1);
    const subscription = await until("the subscription to be disabled", async () => {
      const shown = (await call(service, "GET", `/webhooks/${json.id}`)).json;
      return shown.disabled_at ? shown : null;
    });
    assert.match(subscription.disabled_reason, /410/);
    // Three retries 0.2 s apart would have come by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(receiver.received.length, 1);
    const [delivery] =
      (await call(service, "GET", `/webhooks/${json.id}/deliveries`)).json.deliveries;
    assert.equal(delivery.state, "gone");
    assert.equal(delivery.attempts, 1);
  } finally {
    await service.close();
    await receiver.close();
  }
});

Deno.test("webhooks: loopback and private targets are refused by default, naming the field; nothing is created", async () => {
  const service = await startTestService({ WEBHOOK_SECRET: SECRET });
  try {
    for (
      const url of [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest",
      ]
    ) {
      const { status, json } = await call(service, "POST", "/webhooks", { url });
      assert.equal(status, 400, url);
      assert.equal(json.error.code, "webhook_target_refused");
      assert.equal(json.error.details.fields[0].field, "url");
      assert.match(json.error.message, /WEBHOOK_ALLOW_PRIVATE/);
    }
    assert.deepEqual((await call(service, "GET", "/webhooks")).json.webhooks, []);
    const refused = await call(service, "POST", "/trainmodel/", {
      meter_id: "meter_test_001",
      meter_type: "electricity",
      notify: { url: "http://192.168.1.20/hook" },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.details.fields[0].field, "notify.url");
    assert.equal(
      (await call(service, "GET", "/trainmodel/tasks")).json.tasks.length,
      0,
      "no task started",
    );
  } finally {
    await service.close();
  }
});

Deno.test("webhooks: bad subscriptions and notify values are answered naming the field", async () => {
  const service = await startTestService({ WEBHOOK_ALLOW_PRIVATE: "true" });
  try {
    const cases: [unknown, string, RegExp][] = [
      [{ url: "ftp://example.com/x" }, "url", /http\(s\)/],
      [{ url: "not a url" }, "url", /absolute http\(s\) URL/],
      [{ url: "https://user:pw@example.com/" }, "url", /user name or password/],
      [{}, "url", /required/],
      [{ url: "https://example.com/", events: "sometimes" }, "events", /final, all/],
      [{ url: "https://example.com/", format: "xml" }, "format", /standard, slack/],
      [{ url: "https://example.com/", colour: "red" }, "colour", /not a known field/],
      ['{"url": "https://a.example/", "url": "https://b.example/"}', "url", /twice/],
      ["{", "(body)", /must be JSON/],
    ];
    for (const [body, field, message] of cases) {
      const { status, json } = await call(service, "POST", "/webhooks", body);
      assert.equal(status, 422, JSON.stringify(body));
      const problem = json.error.details.fields.find((f: { field: string }) => f.field === field);
      assert.ok(problem, `${JSON.stringify(body)} names ${field}: ${JSON.stringify(json)}`);
      assert.match(problem.message, message);
    }
    const notify = await call(service, "POST", "/trainmodel/", {
      meter_id: "meter_test_001",
      meter_type: "electricity",
      notify: { url: "gopher://x" },
    });
    assert.equal(notify.status, 422);
    assert.equal(notify.json.error.details.fields[0].field, "notify.url");
    // No WEBHOOK_SECRET here: a standard notify cannot be signed.
    const unsigned = await call(service, "POST", "/trainmodel/", {
      meter_id: "meter_test_001",
      meter_type: "electricity",
      notify: { url: "https://example.com/hook" },
    });
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.json.error.code, "webhook_secret_missing");
    assert.match(unsigned.json.error.message, /WEBHOOK_SECRET/);
    const huge = await call(service, "POST", "/webhooks", {
      url: `https://example.com/${"x".repeat(20_000)}`,
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.error.code, "body_too_large");
    assert.deepEqual(
      (await call(service, "GET", "/webhooks")).json.webhooks,
      [],
      "nothing was created",
    );
    assert.equal((await call(service, "GET", "/webhooks/wh_nothing")).status, 404);
    assert.equal((await call(service, "DELETE", "/webhooks/wh_nothing")).status, 404);
  } finally {
    await service.close();
  }
});

Deno.test("webhooks: with authentication on, subscriptions need the admin scope, reads included", async () => {
  const admin = await createApiKey({
    name: "ops",
    scopes: ["read", "train", "admin"],
    meters: null,
  });
  const trainer = await createApiKey({ name: "ci", scopes: ["read", "train"], meters: null });
  const service = await startTestService({
    ...FAST,
    API_KEYS: JSON.stringify([admin.record, trainer.record]),
  });
  const as = (key: string, method: string, path: string, body?: unknown) =>
    fetch(`${service.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, json: await r.json() }));
  try {
    const body = { url: "https://hooks.example.com/x" };
    assert.equal((await as(trainer.key, "POST", "/webhooks", body)).status, 403);
    assert.equal((await as(trainer.key, "GET", "/webhooks")).status, 403);
    assert.equal((await call(service, "GET", "/webhooks")).status, 401);
    const created = await as(admin.key, "POST", "/webhooks", body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.created_by, "ops");
    assert.equal((await as(trainer.key, "GET", `/webhooks/${created.json.id}`)).status, 403);
    assert.equal((await as(admin.key, "GET", `/webhooks/${created.json.id}`)).status, 200);
  } finally {
    await service.close();
  }
});
