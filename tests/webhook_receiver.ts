/**
 * A webhook receiver for tests: a real HTTP server on a free port of
 * 127.0.0.1 that answers each request with the next status of a script
 * (the last one repeated) and keeps every request it got.
 *
 * @module
 */

/** One request the receiver got. */
export interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A running receiver. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `count` requests came; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** Starts a receiver answering `statuses` in turn (the last one from then on). */
export function startReceiver(statuses: number[], onRequest?: (n: number) => void): Receiver {
  const received: Received[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      received.push({ headers: Object.fromEntries(request.headers), body, at: Date.now() });
      const n = received.length;
      onRequest?.(n);
      const status = statuses[Math.min(n, statuses.length) - 1];
      return new Response(status === 410 ? "gone" : `answer ${n}`, { status });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    async waitFor(count, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > until) {
          throw new Error(
            `The receiver got ${received.length} requests, not ${count}, in ${timeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received.slice(0, count);
    },
    close: () => server.shutdown(),
  };
}
