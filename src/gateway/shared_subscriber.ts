/**
 * Every subscription of the gateway on one Redis connection: a channel or
 * pattern that any number of clients follow is subscribed once, and each
 * message is framed once and handed to all of them. A thousand subscribers
 * then cost Redis one connection and one write per message, and the
 * gateway no file handles beyond their HTTP connections, where a
 * connection per subscriber made Redis write every message a thousand
 * times and a burst of subscribers a burst of Redis connects.
 *
 * When that connection drops, every subscription ends (as a dedicated
 * connection's did), so clients can tell and subscribe again; the next
 * subscription opens a new connection.
 *
 * @module
 */
import type { Redis as IORedis } from "ioredis";
import { Buffer } from "node:buffer";
import { logger } from "../logging/logging.ts";

const log = logger("gateway");

/** Where one subscriber's frames go. */
export interface SubscriberSink {
  /** Takes one SSE frame (shared with every subscriber: do not change it). */
  deliver(frame: Uint8Array): void;
  /** The subscription ended on the Redis side. */
  end(): void;
}

/** The kinds of subscription. */
export type SubscriptionKind = "subscribe" | "psubscribe";

/** One Redis connection for every subscription. */
export interface SharedSubscriber {
  /**
   * Adds `sink` to `name`'s subscribers; resolves once Redis has confirmed
   * the subscription, with the function that removes it again.
   */
  join(kind: SubscriptionKind, name: string, sink: SubscriberSink): Promise<() => void>;
  /** Channels and patterns subscribed now. */
  size(): number;
  /** Ends every subscription and the connection. */
  close(): void;
}

interface Entry {
  sinks: Set<SubscriberSink>;
  ready: Promise<unknown>;
}

const DATA_PREFIX = Buffer.from("data: ");
const COMMA = Buffer.from(",");
const FRAME_END = Buffer.from("\n\n");
const MESSAGE = Buffer.from("message");
const PMESSAGE = Buffer.from("pmessage");

/**
 * Frames a message as Redis gave it (`message,<channel>,<payload>` or
 * `pmessage,<pattern>,<channel>,<payload>`), its bytes copied, not decoded
 * and encoded again; `multiLine` frames the rare payload with line breaks.
 */
export function frameMessage(
  parts: (Buffer | string)[],
  multiLine: (text: string) => string,
): Uint8Array {
  // ioredis gives a pattern as a string, the channel and message as bytes.
  const bytes = parts.map((part) => typeof part === "string" ? Buffer.from(part) : part);
  if (bytes.some((part) => part.includes(0x0a) || part.includes(0x0d))) {
    return Buffer.from(multiLine(bytes.map((part) => part.toString()).join(",")));
  }
  const frame: Uint8Array[] = [DATA_PREFIX];
  bytes.forEach((part, i) => frame.push(...(i ? [COMMA, part] : [part])));
  frame.push(FRAME_END);
  return Buffer.concat(frame);
}

/** Creates the shared subscriber on connections duplicated from `base`. */
export function createSharedSubscriber(
  base: IORedis,
  multiLine: (text: string) => string,
): SharedSubscriber {
  const entries = new Map<string, Entry>();
  let connection: IORedis | null = null;
  let connected: Promise<void> | null = null;

  function fanOut(key: string, parts: (Buffer | string)[]) {
    const entry = entries.get(key);
    if (!entry || entry.sinks.size === 0) return;
    let frame: Uint8Array;
    try {
      frame = frameMessage(parts, multiLine);
    } catch (error) {
      // A handler of ioredis's must not throw (it would end the process).
      log.error("The gateway could not frame a published message; it is skipped: {error}", {
        error,
      });
      return;
    }
    for (const sink of [...entry.sinks]) {
      try {
        sink.deliver(frame);
      } catch (error) {
        log.error("A subscription could not take a message; it is closed: {error}", { error });
        sink.end();
      }
    }
  }

  function open(): IORedis {
    if (connection) return connection;
    const conn = base.duplicate({
      autoResubscribe: false,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      retryStrategy: () => null, // a dropped connection ends every subscription
      lazyConnect: true,
    });
    conn.on("error", () => {});
    conn.on(
      "messageBuffer",
      (channel: Buffer, message: Buffer) =>
        fanOut(`subscribe:${channel.toString()}`, [MESSAGE, channel, message]),
    );
    conn.on(
      "pmessageBuffer",
      (pattern: Buffer | string, channel: Buffer, message: Buffer) =>
        fanOut(`psubscribe:${pattern.toString()}`, [PMESSAGE, pattern, channel, message]),
    );
    conn.on("end", () => {
      if (connection !== conn) return;
      connection = null;
      connected = null;
      const ended = [...entries.values()];
      entries.clear();
      for (const entry of ended) for (const sink of entry.sinks) sink.end();
    });
    connection = conn;
    connected = conn.connect();
    return conn;
  }

  return {
    async join(kind, name, sink) {
      const key = `${kind}:${name}`;
      let entry = entries.get(key);
      if (!entry) {
        const conn = open();
        const ready = connected!.then(() => conn[kind](name));
        entry = { sinks: new Set(), ready };
        entries.set(key, entry);
      }
      const mine = entry;
      mine.sinks.add(sink);
      const leave = () => {
        if (!mine.sinks.delete(sink) || mine.sinks.size > 0) return;
        if (entries.get(key) !== mine) return;
        entries.delete(key);
        const unsubscribe = kind === "subscribe" ? "unsubscribe" : "punsubscribe";
        connection?.[unsubscribe](name).catch(() => {});
      };
      try {
        await mine.ready;
      } catch (error) {
        leave();
        if (entries.get(key) === mine) entries.delete(key);
        throw error;
      }
      return leave;
    },

    size: () => entries.size,

    close() {
      const conn = connection;
      connection = null;
      connected = null;
      const ended = [...entries.values()];
      entries.clear();
      for (const entry of ended) for (const sink of entry.sinks) sink.end();
      conn?.disconnect();
    },
  };
}
