import assert from "node:assert/strict";
import { createParser } from "eventsource-parser";
import { sampleTask } from "../broker/broker_conformance.ts";
import { frameOf } from "./task_stream.ts";

Deno.test("a status frame is one SSE event with data and id, encoded once per event", () => {
  const event = { id: "1700000000000-3", task: sampleTask({ message: "line one\nline two" }) };
  const frame = frameOf(event);
  assert.equal(frameOf(event), frame, "the same bytes for every stream");
  const parsed: { id?: string; event?: string; data: string }[] = [];
  createParser({ onEvent: (e) => parsed.push(e) }).feed(new TextDecoder().decode(frame));
  assert.equal(parsed.length, 1);
  assert.equal(parsed[0].id, event.id);
  assert.equal(parsed[0].event, undefined);
  assert.deepEqual(JSON.parse(parsed[0].data), event.task);
});
