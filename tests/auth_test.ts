/**
 * Authentication end to end, on the SQLite and Redis brokers: scopes,
 * meter restrictions (listings and the all-task stream too), stream tokens
 * and their expiry, and no credential in the logs of a real process.
 */
import assert from "node:assert/strict";
import { SignJWT, UnsecuredJWT } from "jose";
import { createApiKey } from "../src/auth/api_keys.ts";
import { startTestService, type TestService } from "./harness.ts";
import { openStream, readUntil } from "./sse_client.ts";
import { spawnDeno } from "./processes.ts";

const admin = await createApiKey({ name: "ops", scopes: ["read", "train", "admin"], meters: null });
const reader = await createApiKey({ name: "viewer", scopes: ["read"], meters: null });
const gasTeam = await createApiKey({
  name: "gas team",
  scopes: ["read", "train"],
  meters: ["*gas*"],
});
const API_KEYS = JSON.stringify([admin.record, reader.record, gasTeam.record]);

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

async function call(
  service: TestService,
  method: string,
  path: string,
  key?: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      ...(key ? bearer(key) : {}),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {}, headers: response.headers };
}

async function waitFinal(service: TestService, taskId: string, key: string) {
  while (true) {
    const { json } = await call(service, "GET", `/trainmodel/status/${taskId}`, key);
    if (["SUCCESS", "FAILURE", "CANCELLED"].includes(json.status as string)) return json;
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const kind of ["sqlite", "redis"] as const) {
  Deno.test(`${kind}: each scope's routes are allowed or refused, 401 and 403 in the one error shape`, async () => {
    const service = await startTestService({ API_KEYS }, kind);
    try {
      const none = await call(service, "GET", "/trainmodel/tasks");
      assert.equal(none.status, 401);
      assert.equal((none.json.error as { code: string }).code, "unauthorized");
      assert.match(none.headers.get("WWW-Authenticate")!, /^Bearer realm="wattcast"/);
      const bad = await call(
        service,
        "GET",
        "/meters",
        "wk_00000000_notakeynotakeynotakeynotakeyno",
      );
      assert.equal(bad.status, 401);
      assert.equal((bad.json.error as { code: string }).code, "invalid_credentials");
      assert.match(bad.headers.get("WWW-Authenticate")!, /invalid_token/);
      assert.equal((await call(service, "GET", "/health")).status, 200, "the probe stays open");
      const docs = await fetch(`${service.url}/openapi.json`);
      await docs.body?.cancel();
      assert.equal(docs.status, 200, "the contract is public");

      assert.equal((await call(service, "GET", "/meters", reader.key)).status, 200);
      const refused = await call(service, "POST", "/trainmodel/", reader.key, {
        meter_id: "meter_test_001",
        meter_type: "electricity",
      });
      assert.equal(refused.status, 403);
      assert.equal((refused.json.error as { code: string }).code, "forbidden_scope");
      assert.match((refused.json.error as { message: string }).message, /needs the train scope/);
      const upload = await fetch(`${service.url}/meters/electricity/meter_test_001/readings`, {
        method: "POST",
        headers: { ...bearer(reader.key), "Content-Type": "text/csv" },
        body: "timestamp,value\n2024-01-01 00:00:00,1\n",
      });
      assert.equal(upload.status, 403);
      await upload.body?.cancel();

      const started = await call(service, "POST", "/trainmodel/", admin.key, {
        meter_id: "meter_test_001",
        meter_type: "electricity",
        epochs: 1,
      });
      assert.equal(started.status, 202);
      assert.equal(typeof started.json.stream_token, "string");
      const id = started.json.task_id as string;
      assert.equal((await call(service, "DELETE", `/trainmodel/${id}`, reader.key)).status, 403);
      assert.equal(
        (await call(service, "GET", `/trainmodel/status/${id}`, reader.key)).status,
        200,
      );
      await waitFinal(service, id, admin.key);
    } finally {
      await service.close();
    }
  });

  Deno.test(`${kind}: a meter-restricted key sees and touches only its meters, in listings and the all-task stream`, async () => {
    const service = await startTestService({ API_KEYS }, kind);
    try {
      const meters = await call(service, "GET", "/meters", gasTeam.key);
      assert.deepEqual(
        (meters.json.meters as { meter_id: string }[]).map((m) => m.meter_id),
        ["meter_gas_001"],
      );
      const all = await call(service, "GET", "/meters?limit=1", admin.key);
      assert.equal((all.json.meters as unknown[]).length, 1);
      for (
        const [method, path, body] of [
          ["GET", "/meters/electricity/meter_test_001", undefined],
          ["GET", "/forecast/electricity/meter_test_001", undefined],
          ["POST", "/trainmodel/", { meter_id: "meter_test_001", meter_type: "electricity" }],
        ] as const
      ) {
        const answer = await call(service, method, path, gasTeam.key, body);
        assert.equal(answer.status, 403, `${method} ${path}`);
        assert.equal((answer.json.error as { code: string }).code, "forbidden_meter");
      }

      const stream = await openStream(`${service.url}/trainmodel/events`, {
        headers: bearer(gasTeam.key),
      });
      assert.equal(stream.response.status, 200);
      const other = await call(service, "POST", "/trainmodel/", admin.key, {
        meter_id: "meter_test_001",
        meter_type: "electricity",
        epochs: 1,
      });
      await waitFinal(service, other.json.task_id as string, admin.key);
      const own = await call(service, "POST", "/trainmodel/", gasTeam.key, {
        meter_id: "meter_gas_001",
        meter_type: "gas",
        epochs: 1,
      });
      assert.equal(own.status, 202);
      const seen = await readUntil(stream, (m) => {
        const task = JSON.parse(m.data);
        return task.task_id === own.json.task_id && task.status === "SUCCESS";
      });
      stream.close();
      const taskIds = new Set(seen.map((m) => JSON.parse(m.data).task_id).filter(Boolean));
      assert.deepEqual([...taskIds], [own.json.task_id], "only the gas task's events");

      const otherId = other.json.task_id as string;
      assert.equal(
        (await call(service, "GET", `/trainmodel/status/${otherId}`, gasTeam.key)).status,
        403,
      );
      const streamOther = await fetch(`${service.url}/trainmodel/stream/${otherId}`, {
        headers: bearer(gasTeam.key),
      });
      assert.equal(streamOther.status, 403);
      await streamOther.body?.cancel();
      const tasks = await call(service, "GET", "/trainmodel/tasks", gasTeam.key);
      assert.deepEqual(
        (tasks.json.tasks as { task_id: string }[]).map((t) => t.task_id),
        [own.json.task_id],
      );
      const everyTask = await call(service, "GET", "/trainmodel/tasks", admin.key);
      assert.equal((everyTask.json.tasks as unknown[]).length, 2);
    } finally {
      await service.close();
    }
  });
}

Deno.test("a task's stream token opens only that task's stream, and only stream endpoints", async () => {
  const service = await startTestService({ API_KEYS });
  try {
    const a = await call(service, "POST", "/trainmodel/", admin.key, {
      meter_id: "meter_test_001",
      meter_type: "electricity",
      epochs: 1,
    });
    const b = await call(service, "POST", "/trainmodel/", admin.key, {
      meter_id: "meter_gas_001",
      meter_type: "gas",
      epochs: 1,
    });
    const token = a.json.stream_token as string;
    const stream = await openStream(
      `${service.url}/trainmodel/stream/${a.json.task_id}?token=${token}`,
    );
    assert.equal(stream.response.status, 200);
    const events = await readUntil(stream, (m) => JSON.parse(m.data).status === "SUCCESS");
    assert.equal(JSON.parse(events.at(-1)!.data).task_id, a.json.task_id);

    const denied = await fetch(`${service.url}/trainmodel/stream/${b.json.task_id}?token=${token}`);
    assert.equal(denied.status, 403);
    assert.equal((await denied.json()).error.code, "forbidden_task");
    const several = await fetch(
      `${service.url}/trainmodel/stream?task_ids=${a.json.task_id},${b.json.task_id}&token=${token}`,
    );
    assert.equal(several.status, 403);
    await several.body?.cancel();
    const everything = await fetch(`${service.url}/trainmodel/events?token=${token}`);
    assert.equal(everything.status, 403);
    await everything.body?.cancel();
    const status = await fetch(`${service.url}/trainmodel/status/${a.json.task_id}?token=${token}`);
    assert.equal(status.status, 401);
    assert.equal((await status.json()).error.code, "token_not_accepted_here");
    const asBearer = await call(service, "GET", `/trainmodel/status/${a.json.task_id}`, token);
    assert.equal(asBearer.status, 401, "a stream token is no bearer credential");
    await waitFinal(service, b.json.task_id as string, admin.key);
  } finally {
    await service.close();
  }
});

Deno.test("a stream-token request with a key given twice, not JSON or too large is refused, naming why", async () => {
  const service = await startTestService({ API_KEYS });
  const post = (body: string) =>
    fetch(`${service.url}/auth/stream-token`, {
      method: "POST",
      headers: { ...bearer(gasTeam.key), "Content-Type": "application/json" },
      body,
    }).then(async (r) => ({ status: r.status, error: (await r.json()).error }));
  try {
    // The last task_ids would have won silently: an empty list is a token for every task.
    const twice = await post(`{"task_ids": ["${crypto.randomUUID()}"], "task_ids": []}`);
    assert.equal(twice.status, 422);
    assert.equal(twice.error.details.fields[0].field, "task_ids");
    assert.match(twice.error.details.fields[0].message, /appears twice/);
    const notJson = await post("{task_ids: []}");
    assert.equal(notJson.status, 422);
    assert.equal(notJson.error.details.fields[0].field, "(body)");
    const huge = await post(JSON.stringify({ task_ids: [], pad: "x".repeat(32 * 1024) }));
    assert.equal(huge.status, 413);
    assert.equal(huge.error.code, "body_too_large");
  } finally {
    await service.close();
  }
});

Deno.test("an expired stream token is a 401 on reconnect, while the stream it opened carries on", async () => {
  const service = await startTestService({ API_KEYS, STREAM_TOKEN_AFTER_END_SECONDS: "2" });
  try {
    const minted = await call(service, "POST", "/auth/stream-token", gasTeam.key, {});
    assert.equal(minted.status, 201);
    assert.equal(minted.json.task_ids, null);
    const stream = await openStream(`${service.url}${minted.json.stream_url}`);
    assert.equal(stream.response.status, 200);
    await new Promise((r) =>
      setTimeout(r, Date.parse(minted.json.expires_at as string) - Date.now() + 1100)
    );
    const again = await fetch(`${service.url}${minted.json.stream_url}`);
    assert.equal(again.status, 401);
    const error = (await again.json()).error;
    assert.equal(error.code, "stream_token_expired");
    assert.match(error.message, /POST \/auth\/stream-token/);

    const started = await call(service, "POST", "/trainmodel/", gasTeam.key, {
      meter_id: "meter_gas_001",
      meter_type: "gas",
      epochs: 1,
    });
    const events = await readUntil(stream, (m) => JSON.parse(m.data).status === "SUCCESS");
    assert.equal(JSON.parse(events.at(-1)!.data).task_id, started.json.task_id);
    stream.close();
  } finally {
    await service.close();
  }
});

Deno.test("no API key or token appears in the output of a real process, even with DEBUG on", async () => {
  const dataDir = await Deno.makeTempDir();
  const proc = spawnDeno("api", "main.ts", {
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DEBUG: "true",
    API_KEYS,
  });
  try {
    await proc.waitFor(/listening on (http:\/\/\S+)/);
    assert.match(proc.output(), /authentication on/);
    const url = /listening on (http:\/\/[^\s(]+)/.exec(proc.output())![1];
    const started = await fetch(`${url}/trainmodel/`, {
      method: "POST",
      headers: { ...bearer(admin.key), "Content-Type": "application/json" },
      body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs: 1 }),
    }).then((r) => r.json());
    const token = started.stream_token as string;
    const stream = await openStream(`${url}/trainmodel/stream/${started.task_id}?token=${token}`);
    await readUntil(stream, (m) => JSON.parse(m.data).status === "SUCCESS");
    stream.close();
    const wrong = `${token.slice(0, -4)}AAAA`;
    for (
      const path of [
        `/trainmodel/stream/${started.task_id}?token=${wrong}`,
        `/meters?token=${token}`,
      ]
    ) {
      await (await fetch(`${url}${path}`)).body?.cancel();
    }
    await (await fetch(`${url}/meters`, { headers: bearer(`${admin.key}x`) })).body?.cancel();
    await new Promise((r) => setTimeout(r, 200));
    const output = proc.output();
    assert.match(
      output,
      /GET \/trainmodel\/stream\/\S+\?token=\[redacted\] 200/,
      "requests are logged",
    );
    for (const secret of [admin.key, token, wrong, token.split(".")[2]]) {
      assert.ok(!output.includes(secret), `a credential is in the log:\n${output}`);
    }
  } finally {
    await proc.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("JWTs from the identity provider: scopes and meters from their claims; forged, expired and alg none refused", async () => {
  const secret = "the-identity-providers-shared-secret-0123456789";
  const service = await startTestService({
    JWT_SECRET: secret,
    JWT_ISSUER: "https://idp.example",
    JWT_AUDIENCE: "wattcast",
  });
  const sign = (claims: Record<string, unknown>, options: { key?: string; exp?: string } = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuer("https://idp.example")
      .setAudience("wattcast").setSubject("ana").setIssuedAt()
      .setExpirationTime(options.exp ?? "5m").sign(new TextEncoder().encode(options.key ?? secret));
  try {
    const good = await sign({ scope: "openid read", meters: ["meter_test_*"] });
    const meters = await call(service, "GET", "/meters", good);
    assert.equal(meters.status, 200);
    assert.deepEqual(
      (meters.json.meters as { meter_id: string }[]).map((m) => m.meter_id).sort(),
      ["meter_test_001", "meter_test_002"],
    );
    const train = await call(service, "POST", "/trainmodel/", good, {
      meter_id: "meter_test_001",
      meter_type: "electricity",
    });
    assert.equal(train.status, 403, "read only");
    const refused = [
      await sign({ scope: "read" }, { key: "another-secret-another-secret-another-secret" }),
      await sign({ scope: "read" }, { exp: "1 minute ago" }),
      new UnsecuredJWT({ sub: "ana", scope: "read admin" }).setIssuer("https://idp.example")
        .setAudience("wattcast").encode(),
    ];
    for (const token of refused) {
      const answer = await call(service, "GET", "/meters", token);
      assert.equal(answer.status, 401, token);
      assert.equal((answer.json.error as { code: string }).code, "invalid_credentials");
    }
  } finally {
    await service.close();
  }
});

for (const kind of ["sqlite", "redis"] as const) {
  Deno.test(`${kind}: the queue is bounded per principal (429) and in all (503), with Retry-After, and nothing is queued past them`, async () => {
    const third = await createApiKey({ name: "third", scopes: ["read", "train"], meters: null });
    const service = await startTestService({
      API_KEYS: JSON.stringify([admin.record, gasTeam.record, third.record]),
      MAX_QUEUED_TASKS: "2",
      MAX_QUEUED_TASKS_PER_PRINCIPAL: "1",
    }, kind);
    const start = (key: string, meter_id: string, meter_type = "electricity") =>
      call(service, "POST", "/trainmodel/", key, {
        meter_id,
        meter_type,
        epochs: 500,
        batch_size: 8,
      });
    try {
      const first = await start(admin.key, "meter_test_001");
      assert.equal(first.status, 202);
      assert.equal(first.json.requested_by, "ops");
      const mine = await start(admin.key, "meter_test_002");
      assert.equal(mine.status, 429);
      assert.equal((mine.json.error as { code: string }).code, "too_many_queued_tasks");
      assert.ok(Number(mine.headers.get("Retry-After")) > 0);
      assert.equal((await start(gasTeam.key, "meter_gas_001", "gas")).status, 202);
      const full = await start(third.key, "meter_test_002");
      assert.equal(full.status, 503);
      assert.equal((full.json.error as { code: string }).code, "queue_full");
      assert.ok(Number(full.headers.get("Retry-After")) > 0);
      const tasks = await call(service, "GET", "/trainmodel/tasks", admin.key);
      assert.equal((tasks.json.tasks as unknown[]).length, 2, "nothing queued past the bounds");

      assert.equal(
        (await call(service, "DELETE", `/trainmodel/${first.json.task_id}`, admin.key)).status,
        202,
      );
      const again = await start(admin.key, "meter_test_002");
      assert.equal(again.status, 202, "a cancelled task frees its place");
      for (const id of [again.json.task_id]) {
        await call(service, "DELETE", `/trainmodel/${id}`, admin.key);
      }
      const gas = (tasks.json.tasks as { task_id: string; meter_id: string }[])
        .find((t) => t.meter_id === "meter_gas_001")!;
      await call(service, "DELETE", `/trainmodel/${gas.task_id}`, admin.key);
    } finally {
      await service.close();
    }
  });
}
