/**
 * A reference for the fan-out benchmark: a minimal Hono `streamSSE` server
 * on `Deno.serve` (the shape of Wattcast's streams before it chose its HTTP
 * server) that holds streams open, writes one pre-encoded frame to every
 * stream on `POST /fire`, and a heartbeat to all of them every 5 seconds.
 * No broker, no tracker: what Deno.serve and `streamSSE` alone cost per
 * stream. Args: port.
 *
 * @module
 */
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";

const streams = new Set<SSEStreamingApi>();
const app = new Hono();
app.get("/", (c) =>
  streamSSE(c, async (stream) => {
    streams.add(stream);
    await stream.write('data: {"status":"PENDING"}\n\n');
    await new Promise((resolve) => stream.onAbort(() => resolve(null)));
    streams.delete(stream);
  }));
const heartbeat = new TextEncoder().encode('data: {"type":"heartbeat"}\n\n');
setInterval(() => {
  for (const stream of streams) stream.write(heartbeat).catch(() => {});
}, 5000);
app.post("/fire", async () => {
  const frame = new TextEncoder().encode(
    `data: ${JSON.stringify({ pad: "x".repeat(600) })}\nid: 1-0\n\n`,
  );
  await Promise.all([...streams].map((stream) => stream.write(frame)));
  return new Response("ok");
});
Deno.serve({
  port: Number(Deno.args[0]),
  hostname: "127.0.0.1",
  onListen: () => console.log("listening on"),
}, app.fetch);
