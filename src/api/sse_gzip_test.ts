import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { constants, gunzipSync } from "node:zlib";
import { acceptsGzip, createGzipEncoder, STORED_MAX_BYTES } from "./sse_gzip.ts";
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
  return gunzipSync(Buffer.concat(parts), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
}

const statusFrame = (epoch: number, padding = 0) =>
  sseFrame({
    task_id: "0b6f2c4e-2a57-4a63-9d0e-6c1f0f1f4a11",
    meter_id: "meter_test_001",
    meter_type: "electricity",
    status: "TRAINING_MODEL",
    updated_at: new Date(1_768_000_000_000 + epoch * 800).toISOString(),
    created_at: "2026-01-10T00:00:00.000Z",
    estimated_completion: new Date(1_768_000_300_000 + epoch * 7).toISOString(),
    options: { epochs: 400, batch_size: 256, learning_rate: 0.003 },
    progress: 20 + (epoch % 70),
    message: `Training: epoch ${epoch} of 400`,
    metrics: { epoch, epochs: 400, loss: 1 / (epoch + Math.random()), val_loss: null },
    padding: "x".repeat(padding),
  }, `17000000${epoch}-0`);

Deno.test("each frame is readable once written, and the member ends as valid gzip", () => {
  const received: Uint8Array[] = [];
  const encoder = createGzipEncoder((bytes) => received.push(bytes));
  const frames = [
    // A heartbeat on a stream without a compressor yet: stored.
    sseFrame({ type: "heartbeat", timestamp: new Date().toISOString() }),
    statusFrame(1),
    sseFrame({ type: "heartbeat", timestamp: new Date().toISOString() }),
    statusFrame(2, 40_000), // a replay's burst: several output buffers
    statusFrame(3),
    sseFrame({ type: "error", error: "The server could not read this task's events." }),
  ];
  let expected = "";
  for (const frame of frames) {
    encoder.write(frame);
    expected += new TextDecoder().decode(frame);
    // Everything written so far is readable once write returns, before the next frame.
    assert.equal(inflateSoFar(received), expected);
  }
  encoder.end();
  // With the trailer (CRC-32 and length), a strict decoder takes the whole member.
  assert.equal(gunzipSync(Buffer.concat(received)).toString(), expected);
});

Deno.test("a small frame without a compressor is stored; status events cost a fraction", () => {
  const received: Uint8Array[] = [];
  const encoder = createGzipEncoder((bytes) => received.push(bytes));
  const heartbeat = sseFrame({ type: "heartbeat", timestamp: new Date().toISOString() });
  assert.ok(heartbeat.byteLength <= STORED_MAX_BYTES);
  const before = received.length;
  encoder.write(heartbeat);
  assert.equal(encoder.compressing, false);
  assert.equal(received.length, before + 1, "written at once, no compressor turn");
  assert.equal(received.at(-1)!.byteLength, heartbeat.byteLength + 5);

  let raw = 0;
  const start = received.reduce((n, b) => n + b.byteLength, 0);
  for (let epoch = 1; epoch <= 50; epoch++) {
    const frame = statusFrame(epoch);
    raw += frame.byteLength;
    encoder.write(frame);
  }
  assert.equal(encoder.compressing, true);
  const compressed = received.reduce((n, b) => n + b.byteLength, 0) - start;
  assert.ok(compressed < raw / 2, `${compressed} compressed bytes for ${raw}`);
  encoder.destroy();
  assert.equal(encoder.compressing, false);
});

Deno.test("an idle stream's compressor is freed, and the member goes on valid", async () => {
  const received: Uint8Array[] = [];
  const idleMs = 200;
  const encoder = createGzipEncoder((bytes) => received.push(bytes), undefined, idleMs);
  let expected = "";
  const write = (frame: Uint8Array) => {
    encoder.write(frame);
    expected += new TextDecoder().decode(frame);
  };
  write(statusFrame(1));
  write(statusFrame(2));
  assert.equal(encoder.compressing, true);
  // The process's sweep (every second) frees compressors idle for idleMs;
  // heartbeats meanwhile go through the compressor but do not keep it.
  const deadline = Date.now() + idleMs + 5000;
  while (encoder.compressing && Date.now() < deadline) {
    write(sseFrame({ type: "heartbeat", timestamp: new Date().toISOString() }));
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(encoder.compressing, false, "freed once idle");
  write(sseFrame({ type: "heartbeat", timestamp: new Date().toISOString() }));
  assert.equal(encoder.compressing, false, "a heartbeat does not bring one back");
  write(statusFrame(3)); // a fresh compressor
  assert.equal(encoder.compressing, true);
  encoder.end();
  assert.equal(encoder.compressing, false);
  assert.equal(gunzipSync(Buffer.concat(received)).toString(), expected);
});
