/**
 * A test client for event streams: `fetch` plus `eventsource-parser`, a
 * real Server-Sent Events parser, recording each message with the time it
 * arrived.
 *
 * @module
 */
import { createParser } from "eventsource-parser";

/** One message as the SSE parser saw it. */
export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
  /** `performance.now()` when it arrived. */
  at: number;
}

/** An open event stream. */
export interface SseStream {
  response: Response;
  /** Messages in arrival order; ends when the server closes the stream. */
  messages: AsyncGenerator<SseMessage>;
  /** Aborts the connection. */
  close(): void;
  /**
   * The last `id:` the stream sent, as a browser's `EventSource` keeps it:
   * also from frames with no data, which the parser does not dispatch.
   */
  lastEventId(): string | undefined;
}

/** Opens an event stream; `lastEventId` sets the `Last-Event-ID` header, `headers` adds others. */
export async function openStream(
  url: string,
  options: { lastEventId?: string; headers?: Record<string, string> } = {},
): Promise<SseStream> {
  const controller = new AbortController();
  let lastId: string | undefined;
  const headers: Record<string, string> = { Accept: "text/event-stream", ...options.headers };
  if (options.lastEventId) headers["Last-Event-ID"] = options.lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  async function* messages(): AsyncGenerator<SseMessage> {
    if (!response.body) return;
    const queue: SseMessage[] = [];
    const parser = createParser({
      onEvent: (e) => queue.push({ id: e.id, event: e.event, data: e.data, at: performance.now() }),
    });
    const decoder = new TextDecoder();
    let partial = "";
    try {
      for await (const chunk of response.body) {
        const text = decoder.decode(chunk, { stream: true });
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const line of lines) if (line.startsWith("id: ")) lastId = line.slice(4);
        parser.feed(text);
        while (queue.length) yield queue.shift()!;
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
    while (queue.length) yield queue.shift()!;
  }
  return {
    response,
    messages: messages(),
    close: () => controller.abort(),
    lastEventId: () => lastId,
  };
}

/**
 * Reads messages until `stop` says so (inclusive) or the stream ends; the
 * stream stays open for further reads.
 */
export async function readUntil(
  stream: SseStream,
  stop: (message: SseMessage) => boolean,
): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  while (true) {
    const next = await stream.messages.next();
    if (next.done) return out;
    out.push(next.value);
    if (stop(next.value)) return out;
  }
}
