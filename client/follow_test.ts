import assert from "node:assert/strict";
import { followTasks, type StreamEvent, streamPath, toStreamEvent } from "./follow.ts";
import { createHttpClient, type WireCount } from "./http.ts";
import { ClientExit } from "./exit_codes.ts";

const status = (id: string, s: string, n: number) =>
  `data: ${JSON.stringify({ task_id: id, status: s, progress: n })}\nid: ${n}-0\n\n`;

/** Serves scripted answers, one per request, recording each request's Last-Event-ID. */
async function scripted(
  answers: ((request: Request) => Response)[],
  run: (base: string, seen: (string | null)[]) => Promise<void>,
): Promise<void> {
  const seen: (string | null)[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    seen.push(request.headers.get("last-event-id"));
    return answers[Math.min(seen.length - 1, answers.length - 1)](request);
  });
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

const sse = (text: string) => () =>
  new Response(text, { headers: { "Content-Type": "text/event-stream" } });

Deno.test("the stream path: one task on its own stream, several on one", () => {
  assert.equal(streamPath(["a"]), "/trainmodel/stream/a");
  assert.equal(streamPath(["a", "b"]), "/trainmodel/stream?task_ids=a,b");
});

Deno.test("events are told apart: status, heartbeat, error; junk is skipped", () => {
  assert.equal(toStreamEvent('{"task_id":"t","status":"PENDING"}', "1-0", 5)?.kind, "status");
  assert.equal(
    toStreamEvent('{"task_id":null,"type":"heartbeat"}', undefined, 5)?.kind,
    "heartbeat",
  );
  assert.equal(toStreamEvent('{"type":"error","error":"x"}', undefined, 5)?.kind, "error");
  assert.equal(toStreamEvent("not json", undefined, 5), null);
});

Deno.test("a dropped stream is resumed from the last event id, nothing lost or repeated", async () => {
  await scripted([
    sse(status("t", "PENDING", 1) + status("t", "TRAINING_MODEL", 2)), // ends early: dropped
    sse(status("t", "TRAINING_MODEL", 3) + status("t", "SUCCESS", 4)),
  ], async (base, seen) => {
    const client = createHttpClient(base, null);
    const events: StreamEvent[] = [];
    const count: WireCount = { requests: 0, bytes: 0 };
    try {
      const finals = await followTasks(client, ["t"], {
        onEvent: (e) => events.push(e),
        count,
        retryDelayMs: 10,
      });
      assert.deepEqual(finals.map((t) => t.status), ["SUCCESS"]);
    } finally {
      client.close();
    }
    assert.deepEqual(seen, [null, "2-0"]);
    assert.deepEqual(
      events.map((e) => e.kind === "status" ? e.task.progress : e.kind),
      [1, 2, 3, 4],
    );
    assert.equal(count.requests, 2);
    assert.ok(count.bytes > 0);
  });
});

Deno.test("an unknown task is code 4 with the server's words; an expired resume is code 5", async () => {
  await scripted([
    () =>
      Response.json({ error: { code: "task_not_found", message: "unknown or expired" } }, {
        status: 404,
      }),
  ], async (base) => {
    const client = createHttpClient(base, null);
    try {
      await assert.rejects(followTasks(client, ["t"], { onEvent() {} }), (e: unknown) => {
        assert.ok(e instanceof ClientExit);
        assert.equal(e.code, 4);
        assert.match(e.message, /unknown or expired/);
        return true;
      });
    } finally {
      client.close();
    }
  });
  await scripted([
    sse(
      status("t", "PENDING", 1) +
        `data: ${JSON.stringify({ type: "error", code: "events_expired", error: "gone" })}\n\n`,
    ),
  ], async (base) => {
    const client = createHttpClient(base, null);
    try {
      await assert.rejects(followTasks(client, ["t"], { onEvent() {} }), (e: unknown) => {
        assert.ok(e instanceof ClientExit);
        assert.equal(e.code, 5);
        assert.match(e.message, /could not be resumed: gone/);
        return true;
      });
    } finally {
      client.close();
    }
  });
});

Deno.test("a stream that keeps dropping gives up after the retries, code 5", async () => {
  await scripted([sse(status("t", "PENDING", 1)), sse("")], async (base, seen) => {
    const client = createHttpClient(base, null);
    try {
      await assert.rejects(
        followTasks(client, ["t"], { onEvent() {}, maxRetries: 2, retryDelayMs: 5 }),
        (e: unknown) => e instanceof ClientExit && e.code === 5 && /after 2 tries/.test(e.message),
      );
    } finally {
      client.close();
    }
    assert.equal(seen.length, 3);
    assert.deepEqual(seen.slice(1), ["1-0", "1-0"]);
  });
});

Deno.test("several tasks end when each has its final event", async () => {
  await scripted([
    sse(status("a", "PENDING", 1) + status("b", "FAILURE", 2) + status("a", "SUCCESS", 3)),
  ], async (base) => {
    const client = createHttpClient(base, null);
    try {
      const finals = await followTasks(client, ["a", "b"], { onEvent() {} });
      assert.deepEqual(finals.map((t) => `${t.task_id}:${t.status}`), ["a:SUCCESS", "b:FAILURE"]);
    } finally {
      client.close();
    }
  });
});
