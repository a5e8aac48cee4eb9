/**
 * The bare floor for the fan-out benchmark: Deno's `node:http` server with
 * no framework, holding streams open, writing one pre-encoded frame to
 * every stream on `POST /fire` and a heartbeat to all of them every
 * 5 seconds. What the runtime's Node-compatible server alone costs per
 * stream. Args: port.
 *
 * @module
 */
import { createServer, type ServerResponse } from "node:http";

const streams = new Set<ServerResponse>();
const heartbeat = new TextEncoder().encode('data: {"type":"heartbeat"}\n\n');
const server = createServer((req, res) => {
  if (req.method === "POST") {
    const frame = new TextEncoder().encode(
      `data: ${JSON.stringify({ pad: "x".repeat(600) })}\nid: 1-0\n\n`,
    );
    for (const stream of streams) stream.write(frame);
    res.end("ok");
    return;
  }
  res.writeHead(200, { "Content-Type": "text/event-stream" });
  res.write('data: {"status":"PENDING"}\n\n');
  streams.add(res);
  res.on("close", () => streams.delete(res));
});
setInterval(() => {
  for (const stream of streams) stream.write(heartbeat);
}, 5000);
server.listen(Number(Deno.args[0]), "127.0.0.1", () => console.log("listening on"));
