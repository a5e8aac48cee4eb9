import assert from "node:assert/strict";
import { createOpenStreams } from "./open_streams.ts";
import type { SseSink } from "./sse_sink.ts";

/** A sink that records what it is given. */
function recordingSink() {
  const frames: Uint8Array[] = [];
  const callbacks: (() => void)[] = [];
  let open = true;
  const sink: SseSink = {
    response: new Response(null),
    get open() {
      return open;
    },
    full: false,
    write: (frame) => void (open && frames.push(frame)),
    drained: () => Promise.resolve(),
    end() {
      if (!open) return;
      open = false;
      callbacks.splice(0).forEach((c) => c());
    },
    drop() {
      this.end();
    },
    onClose: (callback) => void (open ? callbacks.push(callback) : callback()),
  };
  return { sink, frames, text: () => frames.map((f) => new TextDecoder().decode(f)) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("each open stream gets a heartbeat every interval, naming its task, from one shared frame per task", async () => {
  const streams = createOpenStreams({ heartbeatMs: 200, streamMaxMs: 60_000 });
  const a1 = recordingSink(), a2 = recordingSink(), b = recordingSink();
  streams.add({ taskId: "task-a", sink: a1.sink });
  streams.add({ taskId: "task-a", sink: a2.sink });
  streams.add({ taskId: "task-b", sink: b.sink });
  assert.equal(streams.count(), 3);
  await sleep(700);
  for (const s of [a1, a2, b]) {
    assert.ok(s.frames.length >= 2 && s.frames.length <= 4, `${s.frames.length} beats in 700 ms`);
  }
  const beat = JSON.parse(a1.text()[0].replace(/^data: /, ""));
  assert.equal(beat.task_id, "task-a");
  assert.equal(beat.type, "heartbeat");
  assert.match(a1.text()[0], /^data: \{.*\}\n\n$/, "one data line, no id");
  assert.equal(a1.frames[0], a2.frames[0], "streams of one task share the frame");
  assert.match(b.text()[0], /"task_id":"task-b"/);
  streams.close();
  assert.equal(streams.count(), 0, "closing ends every stream");
  assert.ok(!a1.sink.open && !b.sink.open);
});

Deno.test("streams end at the maximum duration; the clock stops when none is open", async () => {
  const streams = createOpenStreams({ heartbeatMs: 100, streamMaxMs: 250 });
  const first = recordingSink();
  streams.add({ taskId: "t", sink: first.sink });
  await sleep(120);
  const second = recordingSink();
  streams.add({ taskId: "t", sink: second.sink });
  await sleep(200);
  assert.equal(first.sink.open, false, "the first reached 250 ms");
  assert.equal(second.sink.open, true, "the second has not yet");
  await sleep(200);
  assert.equal(second.sink.open, false);
  assert.equal(streams.count(), 0);
  // No timer is left running: the test's op sanitizer would fail otherwise.
});

Deno.test("a stream whose client has unread bytes past the limit gets no heartbeat", async () => {
  const streams = createOpenStreams({ heartbeatMs: 100, streamMaxMs: 60_000 });
  const stuck = recordingSink();
  Object.defineProperty(stuck.sink, "full", { value: true });
  streams.add({ taskId: "t", sink: stuck.sink });
  await sleep(250);
  assert.equal(stuck.frames.length, 0);
  streams.close();
});

Deno.test("after close, a new stream is ended at once", () => {
  const streams = createOpenStreams({ heartbeatMs: 100, streamMaxMs: 60_000 });
  streams.close();
  const late = recordingSink();
  streams.add({ taskId: "t", sink: late.sink });
  assert.equal(late.sink.open, false);
  assert.equal(streams.count(), 0);
});

Deno.test("at shutdown each stream is sent a retry hint of its own, then ended; a stuck one is cut", () => {
  const streams = createOpenStreams({ heartbeatMs: 60_000, streamMaxMs: 60_000 });
  const a = recordingSink(), b = recordingSink(), stuck = recordingSink();
  let dropped = false;
  Object.defineProperty(stuck.sink, "full", { value: true });
  stuck.sink.drop = function () {
    dropped = true;
    this.end();
  };
  for (const s of [a, b, stuck]) streams.add({ taskId: "t", sink: s.sink });
  const hints = [700, 900, 1100];
  streams.close(() => hints.shift()!);
  assert.deepEqual(a.text(), ["retry: 700\n\n"]);
  assert.deepEqual(b.text(), ["retry: 900\n\n"]);
  assert.deepEqual(stuck.text(), [], "a client with unread bytes past the limit gets nothing more");
  assert.ok(dropped, "and is cut");
  assert.ok(!a.sink.open && !b.sink.open);
  assert.equal(streams.count(), 0);
  assert.equal(streams.droppedSlow(), 1);
});
