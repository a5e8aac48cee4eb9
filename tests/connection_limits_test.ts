/**
 * Connection guards of the node server: a client that never finishes its
 * headers is cut after `HEADERS_TIMEOUT_SECONDS` while others are served,
 * and event streams past `MAX_STREAMS` are refused with `503` and
 * `Retry-After`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import { openStream } from "./sse_client.ts";

Deno.test("half-finished requests are cut after the header timeout, and others are served meanwhile", async () => {
  const service = await startTestService({ HEADERS_TIMEOUT_SECONDS: "0.5" });
  const conns: Deno.TcpConn[] = [];
  try {
    const partial = new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:");
    for (let i = 0; i < 50; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
      await conn.write(partial);
      conns.push(conn);
    }
    const health = await fetch(`${service.url}/health`);
    assert.equal(health.status, 200, "served while they hang");
    const body = await health.json();
    assert.ok(body.dependencies.event_streams.connections >= 50, "they are counted");

    const started = performance.now();
    const ends = await Promise.all(conns.map(async (conn) => {
      try {
        return await conn.read(new Uint8Array(64));
      } catch {
        return null; // reset: cut as well
      }
    }));
    assert.ok(ends.every((n) => n === null), "every one was closed without an answer");
    assert.ok(performance.now() - started < 5000, "by the header timeout, not by the test");
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await service.close();
  }
});

Deno.test("a client trickling its headers a byte at a time is cut at the header deadline", async () => {
  const service = await startTestService({ HEADERS_TIMEOUT_SECONDS: "0.5" });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
  try {
    const started = performance.now();
    const bytes = new TextEncoder().encode(
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa",
    );
    let cutAfter = -1;
    for (const byte of bytes) {
      try {
        await conn.write(Uint8Array.of(byte));
      } catch {
        cutAfter = performance.now() - started;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (cutAfter < 0) {
      const end = await conn.read(new Uint8Array(64)).catch(() => null);
      assert.equal(end, null, "closed without an answer");
      cutAfter = performance.now() - started;
    }
    assert.ok(
      cutAfter < 3000,
      `cut after ${cutAfter.toFixed(0)} ms, though every byte came within 0.1 s`,
    );
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
    await service.close();
  }
});

Deno.test("event streams past MAX_STREAMS are refused with 503 and Retry-After", async () => {
  const service = await startTestService({ MAX_STREAMS: "2" });
  try {
    const task = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const url = `${service.url}/trainmodel/stream/${task.task_id}`;
    const open = [await openStream(url), await openStream(url)];
    const third = await fetch(url);
    assert.equal(third.status, 503);
    assert.equal(third.headers.get("Retry-After"), "5");
    const error = (await third.json()).error;
    assert.equal(error.code, "too_many_streams");
    assert.match(error.message, /maximum of 2 event streams/);
    open[0].close();
    let again: Response | undefined;
    for (let i = 0; i < 50; i++) {
      again = await fetch(url);
      if (again.status === 200) break;
      await again.body?.cancel();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(again?.status, 200, "a freed slot is taken again");
    await again?.body?.cancel();
    open[1].close();
    await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
  } finally {
    await service.close();
  }
});
