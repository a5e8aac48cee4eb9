import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { encodeReply, RefusedCommand, toRedisCommand } from "./commands.ts";

Deno.test("typed JSON arguments reach Redis as their string forms", () => {
  assert.deepEqual(toRedisCommand(["set", "k", 1.5]), ["set", "k", "1.5"]);
  assert.deepEqual(toRedisCommand(["set", "k", true]), ["set", "k", "true"]);
  assert.deepEqual(toRedisCommand(["xadd", "s", "*", "f", 0]), ["xadd", "s", "*", "f", "0"]);
});

Deno.test("malformed commands are refused with a reason", () => {
  assert.throws(() => toRedisCommand([]), RefusedCommand);
  assert.throws(() => toRedisCommand("get k"), RefusedCommand);
  assert.throws(() => toRedisCommand(["set", "k", null]), /Argument 2 of the command is null/);
  assert.throws(() => toRedisCommand(["set", "k", { a: 1 }]), /object/);
});

Deno.test("blocking and connection-state commands are refused", () => {
  for (
    const cmd of [["blpop", "l", 0], ["BRPOP", "l", 1], ["xread", "BLOCK", 0, "STREAMS", "s", "$"]]
  ) {
    assert.throws(() => toRedisCommand(cmd), /blocks and is not supported over REST/);
  }
  assert.throws(
    () => toRedisCommand(["xreadgroup", "GROUP", "g", "c", "block", 10, "STREAMS", "s", ">"]),
    /blocks/,
  );
  assert.deepEqual(toRedisCommand(["xread", "COUNT", 1, "STREAMS", "s", "0"]).length, 6);
  for (const name of ["subscribe", "multi", "select", "watch"]) {
    assert.throws(() => toRedisCommand([name, "x"]), /not supported over REST/);
  }
});

Deno.test("replies encode strings as text or base64 at every depth; integers and nulls stay", () => {
  const reply = [Buffer.from("OK"), 5, null, [Buffer.from([0xff, 0x00, 0x61]), Buffer.from("é")]];
  assert.deepEqual(encodeReply(reply, true), ["T0s=", 5, null, ["/wBh", "w6k="]]);
  assert.deepEqual(encodeReply(reply.slice(0, 3), false), ["OK", 5, null]);
  assert.equal(encodeReply(Buffer.from("héllo"), false), "héllo");
});
