/**
 * The floor for the fan-out benchmark: a minimal Hono `streamSSE` server
 * that holds streams open and, on `POST /fire`, writes one pre-encoded
 * frame to every stream. No broker, no tracker: what Deno and Hono alone
 * cost per stream. Args: port.
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
app.post("/fire", async () => {
  const frame = new TextEncoder().encode(`data: ${JSON.stringify({ pad: "x".repeat(600) })}\n\n`);
  await Promise.all([...streams].map((stream) => stream.write(frame)));
  return new Response("ok");
});
Deno.serve({
  port: Number(Deno.args[0]),
  hostname: "127.0.0.1",
  onListen: () => console.log("listening on"),
}, app.fetch);
