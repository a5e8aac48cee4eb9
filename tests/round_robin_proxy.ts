/**
 * A load balancer for tests: a TCP proxy that hands each new client
 * connection to the next of its upstream ports in turn, skipping one that
 * refuses the connection (as a load balancer skips an instance that
 * stopped listening). It records, per connection, the upstream it went to
 * and the text the upstream sent back, so a test can check what crossed
 * the wire.
 *
 * @module
 */
import zlib from "node:zlib";

/** One client connection through the proxy. */
export interface BalancedConnection {
  /** The upstream port it was handed to. */
  upstream: number;
  /** Everything the upstream sent back on it, as text. */
  received: string;
  /** The same, as bytes (a gzipped stream is binary). */
  bytes: Uint8Array[];
  /** False once either side closed it. */
  open: boolean;
}

/** A running round-robin proxy. */
export interface RoundRobinProxy {
  /** The proxy's base URL. */
  url: string;
  /** Every connection so far, in the order they were accepted. */
  connections: BalancedConnection[];
  /** Stops accepting and cuts the open connections. */
  close(): Promise<void>;
}

/** Starts a proxy in front of `upstreams` (ports on 127.0.0.1). */
export function startRoundRobinProxy(upstreams: number[]): RoundRobinProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: BalancedConnection[] = [];
  const clients = new Set<Deno.Conn>();
  const pipes: Promise<unknown>[] = [];
  let next = 0;

  async function connectNext(): Promise<{ conn: Deno.Conn; port: number } | null> {
    for (let tried = 0; tried < upstreams.length; tried++) {
      const port = upstreams[next++ % upstreams.length];
      try {
        return { conn: await Deno.connect({ hostname: "127.0.0.1", port }), port };
      } catch { /* refused: that instance is gone; try the next */ }
    }
    return null;
  }

  const accepting = (async () => {
    for await (const client of listener) {
      const upstream = await connectNext();
      if (!upstream) {
        client.close();
        continue;
      }
      const seen: BalancedConnection = {
        upstream: upstream.port,
        received: "",
        bytes: [],
        open: true,
      };
      connections.push(seen);
      clients.add(client);
      const decoder = new TextDecoder();
      const done = () => {
        seen.open = false;
        clients.delete(client);
        for (const conn of [client, upstream.conn]) {
          try {
            conn.close();
          } catch { /* already closed */ }
        }
      };
      pipes.push(
        Promise.allSettled([
          client.readable.pipeTo(upstream.conn.writable, { preventClose: true }),
          upstream.conn.readable.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, out) {
                seen.received += decoder.decode(chunk, { stream: true });
                seen.bytes.push(chunk.slice());
                out.enqueue(chunk);
              },
            }),
          ).pipeTo(client.writable, { preventClose: true }),
        ].map((p) => p.finally(done))),
      );
    }
  })();

  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    connections,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      for (const client of [...clients]) {
        try {
          client.close();
        } catch { /* already closed */ }
      }
      await Promise.allSettled(pipes);
    },
  };
}

/**
 * The body of the HTTP response a connection carried, as the client read
 * it: de-chunked, and inflated when it came gzipped (a stream cut short
 * inflates as far as it got).
 */
export function responseBody(seen: BalancedConnection): string {
  const all = new Uint8Array(seen.bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of seen.bytes) all.set(b, (at += b.length) - b.length);
  const text = new TextDecoder("latin1").decode(all);
  const split = text.indexOf("\r\n\r\n");
  if (split < 0) return "";
  const head = text.slice(0, split).toLowerCase();
  let body: Uint8Array = all.subarray(split + 4);
  if (/transfer-encoding: *chunked/.test(head)) {
    const parts: Uint8Array[] = [];
    let i = 0;
    while (i < body.length) {
      const lineEnd = body.indexOf(10, i);
      if (lineEnd < 0) break;
      const size = parseInt(new TextDecoder().decode(body.subarray(i, lineEnd)).trim(), 16);
      if (!size) break;
      parts.push(body.subarray(lineEnd + 1, lineEnd + 1 + size));
      i = lineEnd + 1 + size + 2;
    }
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) joined.set(p, (o += p.length) - p.length);
    body = joined;
  }
  if (/content-encoding: *gzip/.test(head)) {
    body = zlib.gunzipSync(body, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  }
  return new TextDecoder().decode(body);
}
