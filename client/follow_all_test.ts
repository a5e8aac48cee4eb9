import assert from "node:assert/strict";
import { followChunks, STREAM_TASK_LIMIT, streamChunks } from "./follow_all.ts";
import { createHttpClient } from "./http.ts";
import { ClientExit, EXIT } from "./exit_codes.ts";
import type { StreamEvent } from "./follow.ts";

const ids = (n: number, prefix = "t") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

Deno.test("streamChunks: the server's chunks first, the rest 100 a stream, each id once", () => {
  assert.equal(STREAM_TASK_LIMIT, 100);
  assert.deepEqual(streamChunks(["a", "b"]), [["a", "b"]]);
  assert.deepEqual(streamChunks([]), []);
  const all = ids(250);
  assert.deepEqual(streamChunks(all).map((c) => c.length), [100, 100, 50]);
  // A batch: its two chunks as given, then a task already training, on a stream of its own.
  const given = [all.slice(0, 100), all.slice(100, 101)];
  assert.deepEqual(streamChunks([...all.slice(0, 101), "x"], given), [
    all.slice(0, 100),
    ["t100"],
    ["x"],
  ]);
  // A chunk over the limit (a server that chunks differently) is split again.
  assert.deepEqual(streamChunks([], [all.slice(0, 150)]).map((c) => c.length), [100, 50]);
});

/** A server whose stream answers every task id in `?task_ids=` (or the path) with SUCCESS, except `bad`. */
async function fleetServer(run: (base: string, paths: string[]) => Promise<void>) {
  const paths: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const url = new URL(request.url);
    paths.push(url.pathname + url.search);
    const list = url.searchParams.get("task_ids")?.split(",") ??
      [url.pathname.split("/").pop()!];
    if (list.includes("bad")) {
      return Response.json({ error: { code: "not_found", message: "No task bad." } }, {
        status: 404,
      });
    }
    if (list.includes("slow")) {
      // Never ends on its own: closed by the client when another stream fails.
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(": open\n\n"));
          },
        }),
        { headers: { "Content-Type": "text/event-stream" } },
      );
    }
    const body = list.map((id, i) =>
      `data: ${JSON.stringify({ task_id: id, status: "SUCCESS", progress: 100 })}\nid: ${
        i + 1
      }-0\n\n`
    ).join("");
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  });
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, paths);
  } finally {
    await server.shutdown();
  }
}

Deno.test("followChunks: every chunk on a stream of its own, finals in the order given", async () => {
  await fleetServer(async (base, paths) => {
    const client = createHttpClient(base, null);
    const all = ids(101);
    const events: StreamEvent[] = [];
    try {
      const finals = await followChunks(client, all, streamChunks(all), {
        onEvent: (e) => events.push(e),
      });
      assert.deepEqual(finals.map((t) => t.task_id), all);
      assert.equal(events.filter((e) => e.kind === "status").length, 101);
      assert.deepEqual(paths.toSorted(), [
        "/trainmodel/stream/t100",
        `/trainmodel/stream?task_ids=${all.slice(0, 100).join(",")}`,
      ]);
    } finally {
      client.close();
    }
  });
});

Deno.test("followChunks: one stream failing for good ends the run with its error, the others closed", async () => {
  await fleetServer(async (base) => {
    const client = createHttpClient(base, null);
    try {
      const error = await followChunks(client, ["slow", "bad"], [["slow"], ["bad"]], {
        onEvent() {},
      }).catch((e) => e);
      assert.ok(error instanceof ClientExit, String(error));
      assert.equal(error.code, EXIT.unknownTask);
      assert.match(error.message, /No task bad/);
    } finally {
      client.close();
    }
  });
});
