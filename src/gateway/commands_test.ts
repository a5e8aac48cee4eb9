import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { checkReadOnly, encodeReply, RefusedCommand, toRedisCommand } from "./commands.ts";

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

Deno.test("administrative commands are refused, naming the command and what to do", () => {
  for (
    const cmd of [
      ["flushall"],
      ["FLUSHDB", "ASYNC"],
      ["config", "set", "maxmemory", "1"],
      [
        "shutdown",
      ],
      ["debug", "sleep", 1],
      ["keys", "*"],
      ["script", "flush"],
      ["acl", "list"],
    ]
  ) {
    assert.throws(() => toRedisCommand(cmd), /administrative command.*redis-cli/, String(cmd));
  }
  assert.throws(() => toRedisCommand(["keys", "*"]), /use SCAN/);
  assert.deepEqual(toRedisCommand(["script", "load", "return 1"]), ["script", "load", "return 1"]);
  assert.deepEqual(toRedisCommand(["scan", 0]), ["scan", "0"]);
});

Deno.test("a read-only token may send reads only", () => {
  for (
    const cmd of [["get", "k"], ["HGETALL", "h"], ["xrange", "s", "-", "+"], ["evalsha_ro", "x", 0]]
  ) {
    checkReadOnly(toRedisCommand(cmd));
  }
  for (
    const cmd of [["set", "k", 1], ["del", "k"], ["eval", "return 1", 0], [
      "xadd",
      "s",
      "*",
      "f",
      1,
    ]]
  ) {
    assert.throws(() => checkReadOnly(toRedisCommand(cmd)), /NOPERM .* read-only/, String(cmd));
  }
});
