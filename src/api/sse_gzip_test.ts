import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { constants, gunzipSync } from "node:zlib";
import { acceptsGzip, createFlushingGzip } from "./sse_gzip.ts";
import { sseFrame } from "./sse_frame.ts";

Deno.test("acceptsGzip reads Accept-Encoding with its weights", () => {
  const cases: [string | null, boolean][] = [
    [null, false],
    ["", false],
    ["identity", false],
    ["gzip", true],
    ["GZIP", true],
    ["x-gzip", true],
    ["gzip, deflate, br", true],
    ["br;q=1.0, gzip;q=0.8", true],
    ["gzip;q=0", false],
    ["gzip; q=0.0", false],
    ["gzip;q=0, *", false],
    ["*", true],
    ["*;q=0", false],
    ["deflate, br", false],
    ["identity;q=1, *;q=0", false],
  ];
  for (const [header, expected] of cases) {
    assert.equal(acceptsGzip(header), expected, `Accept-Encoding: ${header}`);
  }
});

/** Inflates what a client has received so far, without the end of the stream. */
function inflateSoFar(parts: Uint8Array[]): string {
  const all = Buffer.concat(parts);
  return gunzipSync(all, { finishFlush: constants.Z_SYNC_FLUSH }).toString();
}

Deno.test("each frame written comes out whole, and the stream ends as valid gzip", async () => {
  const gzip = createFlushingGzip();
  const received: Uint8Array[] = [];
  gzip.on("data", (chunk: Uint8Array) => received.push(chunk));
  const frames = [
    sseFrame({ status: "PENDING", progress: 0 }, "1-0"),
    sseFrame({ type: "heartbeat", timestamp: new Date().toISOString() }),
    sseFrame({ status: "TRAINING_MODEL", progress: 40, metrics: { epoch: 1, loss: 0.123 } }, "2-0"),
    sseFrame({ type: "error", error: "The server could not read this task's events." }),
  ];
  let expected = "";
  for (const frame of frames) {
    await new Promise<void>((done) => gzip.write(frame, () => done()));
    expected += new TextDecoder().decode(frame);
    // Everything written so far is readable now, before the next frame.
    assert.equal(inflateSoFar(received), expected);
  }
  const ended = new Promise((done) => gzip.once("end", done));
  gzip.end();
  await ended;
  // With the trailer, a strict decoder accepts the whole stream.
  assert.equal(gunzipSync(Buffer.concat(received)).toString(), expected);
});

Deno.test("repeated status events cost a fraction of their size", async () => {
  const gzip = createFlushingGzip();
  let compressed = 0;
  gzip.on("data", (chunk: Uint8Array) => (compressed += chunk.byteLength));
  let raw = 0;
  for (let epoch = 1; epoch <= 50; epoch++) {
    const frame = sseFrame({
      task_id: "0b6f2c4e-2a57-4a63-9d0e-6c1f0f1f4a11",
      status: "TRAINING_MODEL",
      progress: 20 + epoch,
      message: `Training: epoch ${epoch} of 50`,
      metrics: { epoch, epochs: 50, loss: 1 / (epoch + Math.random()), val_loss: null },
    }, `17000000${epoch}-0`);
    raw += frame.byteLength;
    await new Promise<void>((done) => gzip.write(frame, () => done()));
  }
  gzip.destroy();
  assert.ok(compressed < raw / 2, `${compressed} compressed bytes for ${raw}`);
});
