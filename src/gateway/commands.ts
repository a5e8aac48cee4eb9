/**
 * The gateway's translation between Upstash's REST protocol and Redis
 * commands: typed JSON arguments to strings, refusal of commands that
 * would block or change shared connection state, and replies to JSON
 * (optionally base64, as `Upstash-Encoding: base64` asks).
 *
 * @module
 */
import { encodeBase64 } from "../util/base64.ts";

/** A command as it reaches Redis: name first, every argument a string. */
export type RedisCommand = [string, ...string[]];

/** A command the gateway will not run, with the reason in plain words. */
export class RefusedCommand extends Error {
  /** Creates the refusal. */
  constructor(message: string) {
    super(message);
    this.name = "RefusedCommand";
  }
}

const BLOCKING = new Set([
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BLMOVE",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
  "WAITAOF",
]);

const CONNECTION_STATE = new Set([
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SELECT",
  "AUTH",
  "HELLO",
  "RESET",
  "QUIT",
  "MONITOR",
  "SYNC",
  "PSYNC",
  "CLIENT",
]);

/** Commands that affect every client of the Redis server, or read all of it at once. */
const ADMINISTRATIVE = new Set([
  "FLUSHALL",
  "FLUSHDB",
  "CONFIG",
  "SHUTDOWN",
  "DEBUG",
  "KEYS",
  "SAVE",
  "BGSAVE",
  "BGREWRITEAOF",
  "REPLICAOF",
  "SLAVEOF",
  "MIGRATE",
  "MODULE",
  "ACL",
  "FAILOVER",
  "CLUSTER",
  "SWAPDB",
  "SLOWLOG",
  "LATENCY",
  "MONITOR",
]);

/** Commands that only read: all a read-only token may send. */
const READS = new Set([
  "PING",
  "ECHO",
  "TIME",
  "DBSIZE",
  "EXISTS",
  "TYPE",
  "TTL",
  "PTTL",
  "EXPIRETIME",
  "PEXPIRETIME",
  "GET",
  "MGET",
  "STRLEN",
  "GETRANGE",
  "SUBSTR",
  "HGET",
  "HMGET",
  "HGETALL",
  "HKEYS",
  "HVALS",
  "HLEN",
  "HEXISTS",
  "HSTRLEN",
  "HRANDFIELD",
  "HSCAN",
  "LRANGE",
  "LLEN",
  "LINDEX",
  "LPOS",
  "SMEMBERS",
  "SISMEMBER",
  "SMISMEMBER",
  "SCARD",
  "SRANDMEMBER",
  "SSCAN",
  "SINTER",
  "SUNION",
  "SDIFF",
  "SINTERCARD",
  "ZRANGE",
  "ZRANGEBYSCORE",
  "ZRANGEBYLEX",
  "ZREVRANGE",
  "ZREVRANGEBYSCORE",
  "ZREVRANGEBYLEX",
  "ZSCORE",
  "ZMSCORE",
  "ZCARD",
  "ZCOUNT",
  "ZLEXCOUNT",
  "ZRANK",
  "ZREVRANK",
  "ZSCAN",
  "ZRANDMEMBER",
  "XRANGE",
  "XREVRANGE",
  "XLEN",
  "XREAD",
  "XINFO",
  "XPENDING",
  "SCAN",
  "BITCOUNT",
  "BITPOS",
  "GETBIT",
  "PFCOUNT",
  "GEOPOS",
  "GEODIST",
  "GEOSEARCH",
  "GEOHASH",
  "OBJECT",
  "MEMORY",
  "PUBSUB",
  "EVAL_RO",
  "EVALSHA_RO",
  "FCALL_RO",
  "JSON.GET",
  "JSON.MGET",
  "JSON.TYPE",
  "JSON.STRLEN",
  "JSON.ARRLEN",
  "JSON.OBJKEYS",
  "JSON.OBJLEN",
]);

/**
 * Refuses a command a read-only token may not send.
 *
 * @throws {RefusedCommand} unless the command only reads.
 */
export function checkReadOnly(command: RedisCommand): void {
  const name = command[0].toUpperCase();
  if (!READS.has(name)) {
    throw new RefusedCommand(
      `NOPERM ${name} is not a read, and this token is read-only (GATEWAY_READONLY_TOKEN); send it with the gateway's full token.`,
    );
  }
}

/**
 * Turns one JSON command into a Redis command. Numbers and booleans become
 * their string forms.
 *
 * @throws {RefusedCommand} when the command is malformed, blocking, or
 * would change the state of the connection other requests share.
 */
export function toRedisCommand(value: unknown): RedisCommand {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RefusedCommand(
      'A command must be a non-empty JSON array such as ["get", "key"].',
    );
  }
  const args = value.map((arg, i) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" && Number.isFinite(arg)) return String(arg);
    if (typeof arg === "boolean") return String(arg);
    throw new RefusedCommand(
      `Argument ${i} of the command is ${
        arg === null ? "null" : typeof arg
      }; only strings, finite numbers and booleans can be sent to Redis.`,
    );
  });
  const name = args[0].toUpperCase();
  if (BLOCKING.has(name) || isBlockingStreamRead(name, args)) {
    throw new RefusedCommand(
      `ERR ${name} blocks and is not supported over REST; poll without BLOCK, or use pub/sub (/subscribe) to be notified.`,
    );
  }
  if (ADMINISTRATIVE.has(name) || (name === "SCRIPT" && args[1]?.toUpperCase() === "FLUSH")) {
    throw new RefusedCommand(
      `ERR ${
        name === "SCRIPT" ? "SCRIPT FLUSH" : name
      } is an administrative command, and the gateway does not run it: it would affect every client of this Redis${
        name === "KEYS" ? " (KEYS reads every key at once: use SCAN)" : ""
      }. Run it with redis-cli on the server.`,
    );
  }
  if (name === "SCRIPT" && args[1]?.toUpperCase() === "DEBUG") {
    throw new RefusedCommand(
      "ERR SCRIPT DEBUG is not supported over REST: it would put the connection every client shares into Lua debugging.",
    );
  }
  if (CONNECTION_STATE.has(name)) {
    throw new RefusedCommand(
      `ERR ${name} is not supported over REST: it changes the state of a shared connection. Use /multi-exec for transactions and /subscribe or /psubscribe for pub/sub.`,
    );
  }
  return args as RedisCommand;
}

function isBlockingStreamRead(name: string, args: string[]): boolean {
  return (name === "XREAD" || name === "XREADGROUP") &&
    args.some((arg) => arg.toUpperCase() === "BLOCK");
}

/** A JSON-ready reply value. */
export type JsonReply = string | number | null | JsonReply[];

/**
 * Turns a raw Redis reply (Buffers for strings, as ioredis's `callBuffer`
 * gives them) into JSON: strings as UTF-8 text, or as base64 of their bytes
 * when `base64` is set; integers and nulls as they are; arrays at any depth.
 */
export function encodeReply(reply: unknown, base64: boolean): JsonReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (typeof reply === "bigint") return Number(reply);
  if (reply instanceof Uint8Array) {
    return base64 ? encodeBase64(reply) : new TextDecoder().decode(reply);
  }
  if (typeof reply === "string") {
    return base64 ? encodeBase64(new TextEncoder().encode(reply)) : reply;
  }
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  if (reply instanceof Error) throw reply;
  throw new Error(`Unexpected Redis reply of type ${typeof reply}`);
}
