import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { createHttpClient, errorMessage, type WireCount } from "./http.ts";
import { ClientExit } from "./exit_codes.ts";

/** A server that counts the bytes it writes, by serving over a raw TCP listener. */
async function withServer(
  handler: (request: Request) => Response,
  run: (base: string, sent: () => number) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  // A counting proxy in front: what it forwards to the client is what the wire carried.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let sent = 0;
  const pipes: Promise<unknown>[] = [];
  const accepting = (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      pipes.push(
        client.readable.pipeTo(upstream.writable).catch(() => {}),
        upstream.readable.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, out) {
              sent += chunk.byteLength;
              out.enqueue(chunk);
            },
          }),
        ).pipeTo(client.writable).catch(() => {}),
      );
    }
  })();
  try {
    await run(`http://127.0.0.1:${listener.addr.port}`, () => sent);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await server.shutdown();
    await Promise.all(pipes);
  }
}

Deno.test("JSON answers: parsed, gzip inflated, every byte on the wire counted", async () => {
  const big = { text: "x".repeat(5000) };
  await withServer((request) => {
    const gzip = request.headers.get("accept-encoding")?.includes("gzip");
    assert.ok(gzip, "the client asks for gzip");
    assert.equal(request.headers.get("authorization"), "Bearer t0k");
    if (new URL(request.url).pathname === "/plain") return Response.json({ ok: 1 });
    return new Response(new Uint8Array(gzipSync(JSON.stringify(big))), {
      headers: { "Content-Encoding": "gzip", "Content-Type": "application/json" },
    });
  }, async (base, sent) => {
    const client = createHttpClient(base, "t0k");
    const count: WireCount = { requests: 0, bytes: 0 };
    try {
      const zipped = await client.json("GET", "/zipped", undefined, count);
      assert.deepEqual(zipped.body, big);
      const plain = await client.json("GET", "/plain", undefined, count);
      assert.deepEqual(plain.body, { ok: 1 });
      assert.equal(count.requests, 2);
      assert.equal(count.gzipped, 1, "one answer came gzipped");
      assert.ok(count.bytes < 5000, `gzip kept it small: ${count.bytes}`);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(count.bytes, sent(), "the client counted what the proxy forwarded");
    } finally {
      client.close();
    }
  });
});

Deno.test("event streams arrive chunk by chunk; their bytes are counted up to the close", async () => {
  await withServer((request) => {
    assert.equal(request.headers.get("last-event-id"), "1-0");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
        setTimeout(() => {
          controller.enqueue(new TextEncoder().encode("data: 2\n\n"));
          controller.close();
        }, 30);
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  }, async (base, sent) => {
    const client = createHttpClient(base, null);
    const count: WireCount = { requests: 0, bytes: 0 };
    try {
      const stream = await client.stream("/s", { lastEventId: "1-0", count });
      assert.equal(stream.status, 200);
      let text = "";
      for await (const chunk of stream.chunks) text += chunk;
      assert.equal(text, "data: 1\n\ndata: 2\n\n");
      stream.close();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(count.requests, 1);
      assert.equal(count.bytes, sent());
    } finally {
      client.close();
    }
  });
});

Deno.test("an unreachable server is exit code 5, named", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const client = createHttpClient(`http://127.0.0.1:${port}`, null);
  await assert.rejects(client.json("GET", "/"), (error: unknown) => {
    assert.ok(error instanceof ClientExit);
    assert.equal(error.code, 5);
    assert.match(error.message, /Cannot reach the server/);
    return true;
  });
  client.close();
});

Deno.test("errorMessage reads the API's error shape", () => {
  assert.equal(errorMessage({ error: { message: "gone" } }, "x"), "gone");
  assert.equal(errorMessage("nope", "fallback"), "fallback");
});
