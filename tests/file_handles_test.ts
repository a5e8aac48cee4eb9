/**
 * D1: a flood of idle connections beyond the process's file-handle limit
 * does not end the service, and once they are gone it answers again.
 * `deno task dev` runs under `ulimit -n 256` in a child process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnProcess } from "./processes.ts";
import { freePort } from "./redis_server.ts";

/** Opens `count` connections at once, each sending half a request; returns those that opened. */
async function flood(port: number, count: number): Promise<Deno.TcpConn[]> {
  const partial = new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:");
  const conns: Deno.TcpConn[] = [];
  await Promise.all(Array.from({ length: count }, async () => {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await conn.write(partial).catch(() => {});
    } catch {
      // Refused while the server listens again: the flood goes on.
    }
  }));
  return conns;
}

/** `/health` within the deadline, or the last failure. */
async function healthWithin(url: string, ms: number): Promise<number | string> {
  const until = Date.now() + ms;
  let last: number | string = "never tried";
  while (Date.now() < until) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200) return 200;
      last = response.status;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

Deno.test("connections past the file-handle limit never end the service, which answers once they are gone", async () => {
  const port = freePort();
  const dev = spawnProcess(
    "deno task dev",
    "bash",
    ["-c", `ulimit -n 256 && exec "${Deno.execPath()}" task dev`],
    { PORT: String(port), DATA_DIR: "off", SEED_DEMO_METERS: "false" },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await dev.waitFor(/listening on/, 60_000);
    for (const round of [1, 2]) {
      const conns = await flood(port, 400);
      assert.ok(conns.length > 256, `round ${round}: only ${conns.length} connections opened`);
      await new Promise((r) => setTimeout(r, 1000));
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* cut by the server */ }
      }
      assert.ok(!dev.exited(), `round ${round}: the service exited:\n${dev.output()}`);
      assert.equal(
        await healthWithin(url, 15_000),
        200,
        `round ${round}: /health after the flood\n${dev.output()}`,
      );
    }
  } finally {
    await dev.stop();
  }
});
