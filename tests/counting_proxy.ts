/**
 * A TCP proxy that counts what crosses it: per connection, the requests the
 * client sent (their request lines) and the bytes the server sent back. It
 * sees the wire, so it checks what a client says it received.
 *
 * @module
 */

/** One request through the proxy. */
export interface ProxiedRequest {
  /** Method and target, such as `GET /trainmodel/status/…`. */
  line: string;
  /**
   * Bytes the server sent back after it, until the next request on the
   * connection: its whole response, as the client waits for a response
   * before sending the next request (no pipelining).
   */
  bytesToClient: number;
}

/** One client connection through the proxy. */
export interface ProxiedConnection {
  /** Requests sent on it, in order. */
  requests: ProxiedRequest[];
  /** Bytes the server sent to the client on it. */
  bytesToClient: number;
}

/** A running counting proxy. */
export interface CountingProxy {
  /** The proxy's base URL. */
  url: string;
  /** Every connection so far, in the order they were accepted. */
  connections: ProxiedConnection[];
  /** Stops accepting, and waits for open connections to end. */
  close(): Promise<void>;
}

/** Starts a proxy in front of `target` (`host:port`). */
export function startCountingProxy(targetPort: number): CountingProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: ProxiedConnection[] = [];
  const pipes: Promise<unknown>[] = [];
  const accepting = (async () => {
    for await (const client of listener) {
      const seen: ProxiedConnection = { requests: [], bytesToClient: 0 };
      connections.push(seen);
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      const decoder = new TextDecoder();
      let sent = "";
      pipes.push(
        client.readable.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, out) {
              sent += decoder.decode(chunk, { stream: true });
              // A request line may follow a JSON body on the same line of text.
              for (const m of sent.matchAll(/(GET|POST|DELETE|PUT) (\S+) HTTP\/1\.1\r$/gm)) {
                seen.requests.push({ line: `${m[1]} ${m[2]}`, bytesToClient: 0 });
              }
              sent = sent.slice(sent.lastIndexOf("\n") + 1);
              out.enqueue(chunk);
            },
          }),
        ).pipeTo(upstream.writable).catch(() => {}),
        upstream.readable.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, out) {
              seen.bytesToClient += chunk.byteLength;
              const request = seen.requests.at(-1);
              if (request) request.bytesToClient += chunk.byteLength;
              out.enqueue(chunk);
            },
          }),
        ).pipeTo(client.writable).catch(() => {}),
      );
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    connections,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.all(pipes);
    },
  };
}
