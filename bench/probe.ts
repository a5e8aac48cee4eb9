/**
 * The abuse benchmark's probe, in a process of its own so the abuse does
 * not slow it down: sends one request every 25 ms, one at a time, until its
 * stdin closes, then prints `{"latencies": [...], "failed": n}`.
 * Args: `health <base url>` or `ping <gateway url> <token>`.
 *
 * @module
 */
const [kind, url, token] = Deno.args;
const latencies: number[] = [];
let failed = 0;
let running = true;

async function probe(): Promise<boolean> {
  if (kind === "health") {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    return response.status === 200;
  }
  const response = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: '["PING"]',
    signal: AbortSignal.timeout(10_000),
  });
  return response.status === 200 && (await response.json()).result === "PONG";
}

const stopped = (async () => {
  for await (const _ of Deno.stdin.readable) { /* until closed */ }
  running = false;
})();
console.log("ready");
while (running) {
  const started = performance.now();
  const ok = await probe().catch(() => false);
  latencies.push(performance.now() - started);
  if (!ok) failed++;
  await new Promise((r) => setTimeout(r, 25));
}
await stopped;
console.log(JSON.stringify({ latencies, failed }));
