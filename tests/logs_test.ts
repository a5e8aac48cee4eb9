/**
 * The log of a real `main.ts` process: one JSON line per request with its
 * request id, route, status and principal and no credential; one line per
 * task status change; the same lines in `LOG_FILE`; readable text lines with
 * `LOG_FORMAT=text`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createApiKey } from "../src/auth/api_keys.ts";
import { type Proc, spawnDeno } from "./processes.ts";
import { openStream } from "./sse_client.ts";
import { needsRedis, startRedis } from "./redis_server.ts";

const ops = await createApiKey({ name: "ops", scopes: ["read", "train", "admin"], meters: null });

async function start(env: Record<string, string>): Promise<{ proc: Proc; url: string }> {
  const proc = spawnDeno("api", "main.ts", { PORT: "0", HOST: "127.0.0.1", ...env });
  await proc.waitFor(/listening on (http:\/\/\S+)/);
  return { proc, url: /listening on (http:\/\/[^\s(]+)/.exec(proc.output())![1] };
}

/** The JSON lines of the output (the start-up line is plain text). */
function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

async function waitForLine(
  read: () => Promise<string> | string,
  ok: (line: Record<string, unknown>) => boolean,
  what: string,
): Promise<Record<string, unknown>> {
  const until = Date.now() + 30_000;
  while (true) {
    const found = jsonLines(await read()).find(ok);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no log line for ${what}:\n${await read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("JSON log lines: requests with their request id and principal, no credential; task changes; LOG_FILE gets the same", async () => {
  const dataDir = await Deno.makeTempDir();
  const logFile = `${dataDir}/logs/wattcast.log`;
  await Deno.mkdir(`${dataDir}/logs`);
  const { proc, url } = await start({
    DATA_DIR: dataDir,
    API_KEYS: JSON.stringify([ops.record]),
    LOG_FORMAT: "json",
    LOG_FILE: logFile,
  });
  try {
    const started = await fetch(`${url}/trainmodel/`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${ops.key}`,
        "Content-Type": "application/json",
        "X-Request-Id": "start-request-1",
      },
      body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs: 1 }),
    });
    assert.equal(started.status, 202);
    assert.equal(started.headers.get("X-Request-Id"), "start-request-1");
    const task = await started.json();
    const token = task.stream_token as string;
    assert.ok(token, "a stream token came with the task");

    const stream = await openStream(`${url}/trainmodel/stream/${task.task_id}?token=${token}`, {
      headers: { "X-Request-Id": "stream-request-2" },
    });
    assert.equal(stream.response.headers.get("X-Request-Id"), "stream-request-2");
    for await (const _ of stream.messages) { /* to the end of the task */ }

    const post = await waitForLine(
      proc.output,
      (l) => l.request_id === "start-request-1",
      "the POST",
    );
    assert.equal(post.method, "POST");
    assert.equal(post.route, "/trainmodel");
    assert.equal(post.status, 202);
    assert.equal(post.principal, "ops");
    assert.equal(post.logger, "wattcast.http");
    assert.equal(typeof post.duration_ms, "number");

    // A stream's line comes once it closed: its duration is how long it was open.
    const streamLine = await waitForLine(
      proc.output,
      (l) => l.request_id === "stream-request-2",
      "the stream",
    );
    assert.equal(streamLine.route, "/trainmodel/stream/:task_id");
    assert.equal(streamLine.path, `/trainmodel/stream/${task.task_id}?token=[redacted]`);
    assert.equal(streamLine.status, 200);

    const final = await waitForLine(
      proc.output,
      (l) => l.logger === "wattcast.tasks" && l.status === "SUCCESS",
      "the task's success",
    );
    assert.equal(final.task_id, task.task_id);
    assert.equal(final.meter, "electricity/meter_test_001");
    assert.equal(final.attempt, 1);
    const changes = jsonLines(proc.output()).filter((l) =>
      l.logger === "wattcast.tasks" && l.task_id === task.task_id
    );
    assert.deepEqual(
      [...new Set(changes.map((l) => l.status))],
      ["PENDING", "FETCHING_DATA", "PREPROCESSING", "TRAINING_MODEL", "SAVING_MODEL", "SUCCESS"],
    );

    const output = proc.output();
    assert.ok(
      !jsonLines(output).some((l) => l.level === "debug"),
      "no debug lines without DEBUG=true",
    );
    for (const secret of [ops.key, token, token.split(".")[2]]) {
      assert.ok(!output.includes(secret), `a credential is in the log:\n${output}`);
    }

    const filed = await waitForLine(
      () => Deno.readTextFile(logFile),
      (l) => l.request_id === "stream-request-2",
      "the stream, in LOG_FILE",
    );
    assert.deepEqual(filed, streamLine, "the file has the same line");
    assert.ok(!(await Deno.readTextFile(logFile)).includes(token));
  } finally {
    await proc.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("LOG_FORMAT=text: readable lines with the request id; an insane id is replaced; LOG_DIR has a file a day", async () => {
  const dataDir = await Deno.makeTempDir();
  const logDir = `${dataDir}/daily`;
  const { proc, url } = await start({ DATA_DIR: dataDir, LOG_FORMAT: "text", LOG_DIR: logDir });
  try {
    const sane = await fetch(`${url}/meters/electricity?limit=1&api_key=wk_not_logged`, {
      headers: { "X-Request-Id": "text-request-3" },
    });
    await sane.body?.cancel();
    const insane = await fetch(`${url}/no/such/path`, {
      headers: { "X-Request-Id": "x".repeat(129) },
    });
    await insane.body?.cancel();
    const replaced = insane.headers.get("X-Request-Id")!;
    assert.match(replaced, /^[0-9a-f-]{36}$/);
    await proc.waitFor(new RegExp(`request_id=${replaced}`));
    const output = proc.output();
    assert.match(
      output,
      /\[INF\] wattcast·http: GET \/meters\/electricity\?limit=1&api_key=\[redacted\] 200 [\d.]+ms route=\/meters\/:meter_type request_id=text-request-3\n/,
    );
    assert.match(output, /GET \/no\/such\/path 404 [\d.]+ms route=unmatched request_id=/);
    assert.ok(!output.includes("wk_not_logged"));

    // The daily file (named by the UTC date, as the original troubleshooting guide expects).
    const until = Date.now() + 30_000;
    let daily = "";
    while (!daily.includes("request_id=text-request-3")) {
      if (Date.now() > until) throw new Error(`LOG_DIR has no line of the request:\n${daily}`);
      await new Promise((r) => setTimeout(r, 100));
      daily = "";
      let names: string[] = [];
      try {
        names = [...Deno.readDirSync(logDir)].map((e) => e.name);
      } catch { /* not made yet */ }
      for (const name of names) {
        assert.match(name, /^energy_forecasting_\d{4}-\d{2}-\d{2}\.log$/);
        daily += await Deno.readTextFile(`${logDir}/${name}`);
      }
    }
    assert.ok(!daily.includes("wk_not_logged"));
  } finally {
    await proc.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test({
  name:
    "DEBUG=true: broker calls, Redis commands and each stream's open and close are debug lines, without the query",
  ...needsRedis(),
  fn: async () => {
    const redis = await startRedis();
    const dataDir = await Deno.makeTempDir();
    const { proc, url } = await start({
      DATA_DIR: dataDir,
      REDIS_URL: redis.url,
      LOG_FORMAT: "json",
      DEBUG: "true",
    });
    try {
      const started = await fetch(`${url}/trainmodel/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs: 1 }),
      });
      assert.equal(started.status, 202);
      const task = await started.json();
      const stream = await openStream(
        `${url}/trainmodel/stream/${task.task_id}?token=not-a-real-token-but-secret`,
        { headers: { "X-Request-Id": "debug-stream-1" }, lastEventId: "0-0" },
      );
      for await (const _ of stream.messages) { /* to the end of the task */ }

      const created = await waitForLine(
        proc.output,
        (l) => l.logger === "wattcast.broker" && l.operation === "createTask",
        "the broker's createTask",
      );
      assert.equal(created.level, "debug");
      assert.equal(created.broker, "redis");
      assert.equal(typeof created.duration_ms, "number");
      const command = await waitForLine(
        proc.output,
        (l) => l.logger === "wattcast.broker.redis" && String(l.message).includes("script:create"),
        "the Redis command of createTask",
      );
      assert.equal(command.failed, false);
      const opened = await waitForLine(
        proc.output,
        (l) =>
          l.logger === "wattcast.streams" && l.request_id === "debug-stream-1" &&
          String(l.message).startsWith("stream opened"),
        "the stream's opening",
      );
      assert.equal(opened.path, `/trainmodel/stream/${task.task_id}`);
      assert.equal(opened.last_event_id, "0-0");
      const closed = await waitForLine(
        proc.output,
        (l) =>
          l.logger === "wattcast.streams" && l.request_id === "debug-stream-1" &&
          String(l.message).startsWith("stream closed"),
        "the stream's closing",
      );
      assert.ok((closed.events as number) >= 2, "the stream's events are counted");
      assert.ok(!proc.output().includes("not-a-real-token-but-secret"), "no token in the log");
    } finally {
      await proc.stop();
      await redis.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
