/**
 * The REST gateway: serves the Upstash REST protocol that `@upstash/redis`
 * speaks and forwards to a plain `redis-server` over RESP2, through ioredis
 * (a well-kept client: no hand-written RESP codec).
 *
 * - `POST /` one command, `POST /pipeline` a batch, `POST /multi-exec` a
 *   transaction; arguments typed JSON, replies `{"result"}` or `{"error"}`,
 *   strings base64-encoded when `Upstash-Encoding: base64` is sent.
 * - `POST /subscribe/{channel}` and `POST /psubscribe/{pattern}`: Server-Sent
 *   Events. Every subscription shares one Redis connection
 *   (`shared_subscriber.ts`): a channel many clients follow is subscribed
 *   once, each message framed once. The streams end if that connection
 *   drops, so clients can tell.
 * - `Authorization: Bearer <token>` on every request; an optional second,
 *   read-only token may send only reads and subscribe.
 * - Administrative commands (`FLUSHALL`, `CONFIG`, `KEYS`…) are refused:
 *   they would affect every client of the Redis server.
 * - No client can change or hold the shared connection: commands that block
 *   or change its state are refused (`commands.ts`), only Wattcast's own
 *   Lua scripts run by default (`script_policy.ts`; with `GATEWAY_SCRIPTS=any`
 *   a script can hold Redis until killed), `SCRIPT KILL` and
 *   `FUNCTION KILL` go on a connection of their own so they reach Redis
 *   while a script runs, batches and subscriptions are capped, and a
 *   subscriber that stops reading is dropped by unread bytes.
 * - Scripts whose shebang names flags Redis does not know (Upstash's
 *   `allow-key-locking`, which `@upstash/ratelimit` sends) run with those
 *   flags dropped, under their original SHA-1 (`script_shebang.ts`).
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { Command, Redis as IORedis } from "ioredis";
import { timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { checkReadOnly, encodeReply, type RedisCommand, toRedisCommand } from "./commands.ts";
import { checkScript, PROJECT_SCRIPTS, type ScriptPolicy } from "./script_policy.ts";
import { createScriptShebangs } from "./script_shebang.ts";
import { createSharedSubscriber, type SubscriptionKind } from "./shared_subscriber.ts";
import { logger } from "../logging/logging.ts";

const log = logger("gateway");

/** Gateway settings. */
export interface GatewayOptions {
  /** The Redis server, `redis://host:port`. */
  redisUrl: string;
  /** The bearer token clients must send. */
  token: string;
  /** A second token that may only read (commands in `checkReadOnly`, and subscriptions). */
  readOnlyToken?: string | null;
  /** Largest request body, in bytes (default 16 MiB). */
  maxBodyBytes?: number;
  /** Commands in one pipeline or transaction, at most (default 1,000). */
  maxBatchCommands?: number;
  /** Subscriptions open at once, at most (default 1,000): each holds an HTTP connection. */
  maxSubscriptions?: number;
  /** Bytes a subscriber may leave unread before it is dropped (default 256 KiB: 1,000 stuck subscribers hold 256 MiB at most). */
  maxUnreadBytes?: number;
  /** Which Lua scripts run (default `project`: only Wattcast's own; see `script_policy.ts`). */
  scripts?: ScriptPolicy;
}

/** A gateway, ready to serve. */
export interface Gateway {
  /** Handles one HTTP request. */
  fetch(request: Request): Promise<Response>;
  /** Commands run since start (each command of a batch counts once). */
  commands(): number;
  /** Subscriptions open now. */
  subscriptions(): number;
  /** Ends subscriptions and closes Redis connections. */
  close(): Promise<void>;
}

/** Limits used when the options give none. */
export const GATEWAY_LIMITS = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxBatchCommands: 1000,
  maxSubscriptions: 1000,
  maxUnreadBytes: 256 * 1024,
} as const;

/** A command whose reply reaches the client as Redis sent it (no ioredis reshaping). */
class RawCommand extends Command {
  override transformReply(result: Buffer | Buffer[]): Buffer | Buffer[] {
    return result;
  }
}

class GatewayError extends Error {
  constructor(readonly status: 400 | 401 | 404 | 413 | 500 | 502 | 503, message: string) {
    super(message);
  }
}

/** Creates the gateway; it connects to Redis at once and reconnects as needed. */
export function createGateway(options: GatewayOptions): Gateway {
  const redis = new IORedis(options.redisUrl, {
    protocol: 2, // RESP2: replies in Redis's own shapes, as Upstash returns them
    lazyConnect: false,
    maxRetriesPerRequest: 20,
    // Not enableAutoPipelining: with callBuffer it drops the command name.
    // Commands are still written in order on one connection.
  });
  redis.on("error", () => {}); // reconnects on its own; requests report failures
  // For SCRIPT KILL and FUNCTION KILL only: on the shared connection they
  // would wait behind the script they are to stop. Connected from the start
  // and without ioredis's ready check, whose INFO a busy Redis refuses.
  const control = redis.duplicate({ enableReadyCheck: false });
  control.on("error", () => {});
  const policy = options.scripts ?? "project";
  const limits = { ...GATEWAY_LIMITS, ...definedOnly(options) };
  const expected = Buffer.from(`Bearer ${options.token}`);
  const readOnly = options.readOnlyToken ? Buffer.from(`Bearer ${options.readOnlyToken}`) : null;
  const matches = (given: Buffer, token: Buffer | null) =>
    token !== null && given.length === token.length && timingSafeEqual(given, token);
  const subscriptions = new Set<{ close(): void }>();
  const shared = createSharedSubscriber(redis, sseData);
  const shebangs = createScriptShebangs(PROJECT_SCRIPTS);
  let commandCount = 0;

  const app = new Hono<{ Variables: { readOnly: boolean } }>();
  app.use(async (c, next) => {
    const given = Buffer.from(c.req.header("Authorization") ?? "");
    const full = matches(given, expected);
    if (!full && !matches(given, readOnly)) {
      throw new GatewayError(
        401,
        "Unauthorized: send Authorization: Bearer <token> with the gateway's token (UPSTASH_REDIS_REST_TOKEN).",
      );
    }
    c.set("readOnly", !full);
    await next();
  });
  app.use(bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () => {
      throw new GatewayError(413, "ERR request body too large");
    },
  }));

  const wantsBase64 = (req: Request) =>
    req.headers.get("Upstash-Encoding")?.toLowerCase() === "base64";

  /**
   * The request's JSON. For a batch (`what`), its commands are counted in
   * the text first, so one over the cap is refused before any of it runs,
   * and without building it: parsing a million-command body would hold the
   * gateway for every client.
   */
  async function readJson(req: Request, what?: string): Promise<unknown> {
    const text = await req.text();
    if (what) {
      const count = topLevelItems(text, limits.maxBatchCommands + 1);
      if (count > limits.maxBatchCommands) {
        throw new GatewayError(
          413,
          `ERR a ${what} holds at most ${limits.maxBatchCommands} commands; this one has more. Send it in parts.`,
        );
      }
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new GatewayError(400, "ERR the request body is not valid JSON");
    }
  }

  /** Checks a client's command against the gateway's rules. */
  function accept(value: unknown, readOnly: boolean): RedisCommand {
    const command = toRedisCommand(value);
    if (readOnly) checkReadOnly(command);
    checkScript(command, policy);
    return command;
  }

  async function run(given: RedisCommand, base64: boolean) {
    commandCount++;
    const { command, reply } = shebangs.forward(given);
    const raw = new RawCommand(command[0], command.slice(1));
    const kill = ["SCRIPT", "FUNCTION"].includes(command[0].toUpperCase()) &&
      command[1]?.toUpperCase() === "KILL";
    (kill ? control : redis).sendCommand(raw);
    return encodeReply(reply(await raw.promise), base64);
  }

  const errorText = (error: unknown) => error instanceof Error ? error.message : String(error);

  app.post("/", async (c) => {
    const body = await readJson(c.req.raw);
    let command;
    try {
      command = accept(body, c.get("readOnly"));
    } catch (error) {
      throw new GatewayError(400, errorText(error));
    }
    try {
      return c.json({ result: await run(command, wantsBase64(c.req.raw)) });
    } catch (error) {
      throw new GatewayError(400, errorText(error));
    }
  });

  app.post("/pipeline", async (c) => {
    const body = await readJson(c.req.raw, "pipeline");
    if (!Array.isArray(body)) {
      throw new GatewayError(400, "ERR a pipeline is a JSON array of commands");
    }
    const base64 = wantsBase64(c.req.raw);
    const readOnly = c.get("readOnly");
    const results = await Promise.all(body.map(async (raw) => {
      try {
        return { result: await run(accept(raw, readOnly), base64) };
      } catch (error) {
        return { error: errorText(error) };
      }
    }));
    return c.json(results);
  });

  app.post("/multi-exec", async (c) => {
    const body = await readJson(c.req.raw, "transaction");
    if (!Array.isArray(body) || body.length === 0) {
      throw new GatewayError(400, "ERR a transaction is a non-empty JSON array of commands");
    }
    let commands;
    try {
      commands = body.map((raw) => accept(raw, c.get("readOnly")));
    } catch (error) {
      throw new GatewayError(400, `EXECABORT Transaction discarded: ${errorText(error)}`);
    }
    // A transaction is a Pipeline, which queues commands with sendCommand (untyped).
    const transaction = redis.multi() as unknown as {
      sendCommand(command: Command): void;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    const forwarded = commands.map((command) => shebangs.forward(command));
    for (const { command: [name, ...args] } of forwarded) {
      transaction.sendCommand(new RawCommand(name, args));
    }
    commandCount += commands.length;
    let replies;
    try {
      replies = await transaction.exec();
    } catch (error) {
      throw new GatewayError(400, errorText(error));
    }
    if (!replies) throw new GatewayError(400, "EXECABORT Transaction discarded");
    const base64 = wantsBase64(c.req.raw);
    return c.json(
      replies.map(([error, reply], i) =>
        error
          ? { error: error.message }
          : { result: encodeReply(forwarded[i].reply(reply), base64) }
      ),
    );
  });

  for (const kind of ["subscribe", "psubscribe"] as const) {
    app.post(`/${kind}/*`, (c) => {
      const path = new URL(c.req.url).pathname;
      let name;
      try {
        name = decodeURIComponent(path.slice(kind.length + 2));
      } catch {
        throw new GatewayError(400, `ERR the ${kind} path is not valid percent-encoding`);
      }
      if (!name) throw new GatewayError(400, `ERR ${kind} needs a channel name in the path`);
      if (subscriptions.size >= limits.maxSubscriptions) {
        throw new GatewayError(
          503,
          `ERR the gateway holds its maximum of ${limits.maxSubscriptions} subscriptions; retry later, or raise it.`,
        );
      }
      commandCount++;
      return subscribe(kind, name);
    });
  }

  function subscribe(kind: SubscriptionKind, name: string) {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    let leave: (() => void) | null = null;
    // Messages that come before the subscription's confirmation is sent wait for it.
    let early: Uint8Array[] | null = [];
    const handle = {
      close() {
        if (closed) return;
        closed = true;
        subscriptions.delete(handle);
        leave?.();
        try {
          controller.close();
        } catch { /* already closed or cancelled */ }
      },
    };
    /** Sends a frame unless the subscriber is gone, or dropped now for not reading. */
    const enqueue = (frame: Uint8Array) => {
      if (closed) return;
      // With a high-water mark of 0, desiredSize is minus the bytes unread.
      if (-(controller.desiredSize ?? 0) > limits.maxUnreadBytes) {
        handle.close(); // the client stopped reading: don't buffer without bound
        return;
      }
      controller.enqueue(frame);
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
        },
        cancel: () => handle.close(), // the client went away
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
    );
    subscriptions.add(handle);
    shared.join(kind, name, {
      deliver: (frame) => early ? early.push(frame) : enqueue(frame),
      end: () => handle.close(),
    }).then((unsubscribe) => {
      leave = unsubscribe;
      if (closed) return unsubscribe(); // the client left while Redis confirmed
      enqueue(new TextEncoder().encode(sseData(`${kind},${name},1`)));
      const waiting = early!;
      early = null;
      for (const frame of waiting) enqueue(frame);
    }, () => handle.close());
    return new Response(body, {
      headers: {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        // An endless stream's connection can't be reused: saying so lets an
        // HTTP/1.1 client close it on abort instead of trying to drain it.
        "Connection": "close",
      },
    });
  }

  app.notFound((c) =>
    c.json({ error: `ERR no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404)
  );
  app.onError((error, c) => {
    if (error instanceof GatewayError) return c.json({ error: error.message }, error.status);
    log.error("Gateway request failed: {error}", { error });
    return c.json({ error: `ERR gateway failure: ${errorText(error)}` }, 500);
  });

  return {
    fetch: (request) => Promise.resolve(app.fetch(request)),
    commands: () => commandCount,
    subscriptions: () => subscriptions.size,
    async close() {
      for (const subscription of [...subscriptions]) subscription.close();
      shared.close();
      await redis.quit().catch(() => redis.disconnect());
      control.disconnect();
    },
  };
}

/**
 * One SSE event whose data is `text`: a line break in a payload starts
 * another `data:` line, which an SSE parser joins back with `\n`, so no
 * payload can end the event early. Only the first line is `data: `: the
 * following ones are `data:` with no space (a space of the payload's own
 * kept behind it), because `@upstash/redis` reads every `data: ` line as a
 * message of its own, and a payload must not forge one.
 */
export function sseData(text: string): string {
  const [first, ...rest] = text.split(/\r\n|\r|\n/);
  const more = rest.map((line) => (line.startsWith(" ") ? `data: ${line}` : `data:${line}`));
  return `${[`data: ${first}`, ...more].join("\n")}\n\n`;
}

/** The options that were given, without the undefined ones. */
function definedOnly(options: GatewayOptions): Partial<typeof GATEWAY_LIMITS> {
  return Object.fromEntries(
    Object.entries({
      maxBodyBytes: options.maxBodyBytes,
      maxBatchCommands: options.maxBatchCommands,
      maxSubscriptions: options.maxSubscriptions,
      maxUnreadBytes: options.maxUnreadBytes,
    }).filter(([, value]) => value !== undefined),
  );
}

/**
 * Items of the JSON array `text`, counted up to `stop`; 0 when it is not an
 * array. A scan of the text, strings skipped whole: no values are built.
 */
export function topLevelItems(text: string, stop: number): number {
  const start = text.search(/\S/);
  if (start < 0 || text[start] !== "[") return 0;
  let depth = 0;
  let commas = 0;
  let nonEmpty = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // a string: jump to its closing quote
      nonEmpty = true;
      let end = text.indexOf('"', i + 1);
      for (;;) {
        if (end < 0) return nonEmpty ? commas + 1 : 0;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end;
    } else if (c === 0x5b || c === 0x7b) { // [ {
      if (depth > 0) nonEmpty = true;
      depth++;
    } else if (c === 0x5d || c === 0x7d) { // ] }
      if (--depth === 0) break;
    } else if (c === 0x2c) { // ,
      if (depth === 1 && ++commas + 1 >= stop) return commas + 1;
    } else if (c > 0x20) {
      nonEmpty = true;
    }
  }
  return nonEmpty ? commas + 1 : 0;
}
