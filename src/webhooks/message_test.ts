import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { isSecret, newSecret, slackText, webhookRequest } from "./message.ts";
import { sampleDelivery } from "../broker/webhook_store_conformance.ts";
import { sampleTask } from "../broker/broker_conformance.ts";

Deno.test("webhook message: a standard delivery is the status object, signed so standardwebhooks verifies it", () => {
  const secret = newSecret();
  assert.ok(isSecret(secret));
  const task = sampleTask({ status: "SUCCESS", progress: 100 });
  const delivery = sampleDelivery({ payload: JSON.stringify(task) });
  const { headers, body } = webhookRequest(delivery, secret);
  assert.equal(body, delivery.payload);
  assert.equal(headers["webhook-id"], delivery.id);
  assert.deepEqual(new Webhook(secret).verify(body, headers), task);
  assert.throws(() => new Webhook(newSecret()).verify(body, headers));
});

Deno.test("webhook message: slack format is a text message naming the meter and the outcome", () => {
  const task = sampleTask({
    status: "FAILURE",
    error: "No readings",
    error_details: { code: "no_readings", stage: "FETCHING_DATA", hint: "Upload readings." },
  });
  const { body } = webhookRequest(
    sampleDelivery({ format: "slack", payload: JSON.stringify(task) }),
    null,
  );
  const text = JSON.parse(body).text as string;
  assert.match(
    text,
    new RegExp(
      `failed while FETCHING_DATA: No readings Upload readings\\. \\(task ${task.task_id}\\)`,
    ),
  );
  assert.match(
    slackText({ ...task, status: "SUCCESS", message: "Model trained" }),
    /succeeded: Model trained/,
  );
});

Deno.test("webhook message: only whsec_ keys are keys", () => {
  assert.equal(isSecret("whsec_short"), false);
  assert.equal(isSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), false);
  assert.equal(isSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), true);
});
