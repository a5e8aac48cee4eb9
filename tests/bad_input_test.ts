import assert from "node:assert/strict";
import { startTestService, type TestService } from "./harness.ts";
import { captureLogs } from "./log_capture.ts";

async function expectError(response: Response, status: number, code: string) {
  const body = await response.json();
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(response.headers.get("Content-Type"), "application/json");
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 10, "the message says what went wrong");
  return body.error;
}

/** Nothing changed: the meter is free, so a good request still starts a task. */
async function assertNothingChanged(service: TestService) {
  const { response, json } = await service.train({
    meter_id: "meter_test_002",
    meter_type: "electricity",
    epochs: 1,
  });
  assert.equal(response.status, 202, `meter still free: ${JSON.stringify(json)}`);
  await fetch(`${service.url}/trainmodel/${json.task_id}`, { method: "DELETE" }).then((r) =>
    r.body?.cancel()
  );
}

Deno.test("bad training requests get a 422 naming each bad field, and change nothing", async () => {
  const service = await startTestService();
  try {
    const cases: Array<[string, string | unknown, string[]]> = [
      ["not JSON", "{meter_id: oops", ["(body)"]],
      ["a JSON array", "[1,2]", ["(body)"]],
      ["empty object", {}, ["meter_id", "meter_type"]],
      ["missing meter_type", { meter_id: "meter_test_002" }, ["meter_type"]],
      ["unknown meter_type", { meter_id: "meter_test_002", meter_type: "plutonium" }, [
        "meter_type",
      ]],
      ["wrong type", { meter_id: 42, meter_type: "electricity" }, ["meter_id"]],
      ["path in meter_id", { meter_id: "../../etc", meter_type: "electricity" }, ["meter_id"]],
      ["meter_id too long", { meter_id: "m".repeat(65), meter_type: "electricity" }, ["meter_id"]],
      ["epochs out of bounds", {
        meter_id: "meter_test_002",
        meter_type: "electricity",
        epochs: 100000,
      }, ["epochs"]],
      ["learning_rate not a number", {
        meter_id: "meter_test_002",
        meter_type: "electricity",
        learning_rate: "x",
      }, [
        "learning_rate",
      ]],
      ["unknown option", { meter_id: "meter_test_002", meter_type: "electricity", epoch: 3 }, [
        "epoch",
      ]],
      ["meter without readings", { meter_id: "no_such_meter", meter_type: "electricity" }, [
        "meter_id",
      ]],
      [
        "a repeated key",
        '{"meter_id": "meter_test_002", "meter_type": "electricity", "meter_id": "x"}',
        ["meter_id"],
      ],
      [
        "a repeated option",
        '{"meter_id": "meter_test_002", "meter_type": "electricity", "options": {"epochs": 1, "epochs": 9}}',
        ["options.epochs"],
      ],
    ];
    for (const [name, body, fields] of cases) {
      const response = await fetch(`${service.url}/trainmodel`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const error = await expectError(response, 422, "validation_failed");
      const named = error.details.fields.map((f: { field: string }) => f.field).sort();
      assert.deepEqual(named, [...fields].sort(), name);
      for (const field of fields) {
        assert.match(error.message, new RegExp(field.replace(/[()]/g, "\\$&")), name);
      }
    }
    await assertNothingChanged(service);
  } finally {
    await service.close();
  }
});

Deno.test("an oversized body is refused with 413", async () => {
  const service = await startTestService();
  try {
    const body = JSON.stringify({
      meter_id: "meter_test_002",
      meter_type: "electricity",
      pad: "x".repeat(100_000),
    });
    const response = await fetch(`${service.url}/trainmodel/`, { method: "POST", body });
    await expectError(response, 413, "body_too_large");
    await assertNothingChanged(service);
  } finally {
    await service.close();
  }
});

Deno.test("a second request for a busy meter is a 409 with the active task's id", async () => {
  const service = await startTestService();
  try {
    const task = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const { response, json } = await service.train({
      meter_id: "meter_test_001",
      meter_type: "electricity",
    });
    assert.equal(response.status, 409);
    const error = (json as { error: { code: string; details: { task_id: string } } }).error;
    assert.equal(error.code, "task_already_active");
    assert.equal(error.details.task_id, task.task_id);
    await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
  } finally {
    await service.close();
  }
});

Deno.test("unknown task ids and paths are 404s in the one error shape", async () => {
  const service = await startTestService();
  try {
    const unknown = crypto.randomUUID();
    const error = await expectError(
      await fetch(`${service.url}/trainmodel/status/${unknown}`),
      404,
      "task_not_found",
    );
    assert.match(error.message, /is unknown or expired/, "an id is not blamed on expiry alone");
    assert.match(error.message, /kept 1 hour after they end/, "the TTL as configured");
    await expectError(
      await fetch(`${service.url}/trainmodel/stream/${unknown}`),
      404,
      "task_not_found",
    );
    await expectError(
      await fetch(`${service.url}/trainmodel/status/not-a-uuid`),
      404,
      "task_not_found",
    );
    await expectError(
      await fetch(`${service.url}/trainmodel/${unknown}`, { method: "DELETE" }),
      404,
      "task_not_found",
    );
    await expectError(await fetch(`${service.url}/no/such/path`), 404, "not_found");
  } finally {
    await service.close();
  }
});

for (const server of ["node", "deno"] as const) {
  Deno.test(`${server} server: an aborted upload is one log line, not a stack trace, and stores nothing`, async () => {
    const service = await startTestService({ HTTP_SERVER: server, SEED_DEMO_METERS: "false" });
    // The service's warnings and errors, as its log (LogTape) gets them.
    const logs = await captureLogs();
    const logged = logs.lines;
    try {
      for (let i = 0; i < 5; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
        await conn.write(new TextEncoder().encode(
          "POST /meters/gas/aborted/readings HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
            "Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\n2024-01-01 00:00:00,1\n",
        ));
        await new Promise((r) => setTimeout(r, 50));
        conn.close();
      }
      for (let i = 0; i < 50 && logged.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await logs.stop();
    }
    try {
      assert.equal(logged.length, 5, logged.join("\n"));
      assert.ok(logged.every((line) => /closed the connection mid-request/.test(line)));
      assert.ok(logged.every((line) => !line.includes("\n")), "one line each");
      assert.equal((await fetch(`${service.url}/meters/gas/aborted`)).status, 404);
    } finally {
      await service.close();
    }
  });
}

Deno.test("a URL over the limit is a 414 in the one error shape", async () => {
  const service = await startTestService();
  try {
    const response = await fetch(
      `${service.url}/trainmodel/tasks?status=${"PENDING,".repeat(1200)}`,
    );
    assert.equal(response.status, 414);
    const body = await response.json();
    assert.equal(body.error.code, "url_too_long");
    assert.match(body.error.message, /at most 8192/);
  } finally {
    await service.close();
  }
});
