/**
 * Event delay: from a worker's publish (its tracker's report call) to a
 * client's receipt over SSE, in embedded mode (on SQLite, the default, and
 * in memory) and in Redis mode.
 *
 * @module
 */
import { createParser } from "eventsource-parser";
import { percentile } from "./stats.ts";
import { startBenchApi, startFakeTraining } from "./broker_pair.ts";

/** Delays in milliseconds for one mode. */
export interface DelayResult {
  mode: string;
  events: number;
  p50: number;
  p99: number;
  max: number;
}

/** Measures `events` event delays in one mode. */
export async function measureEventDelay(
  mode: "sqlite" | "memory" | "redis",
  events = 300,
): Promise<DelayResult> {
  const api = await startBenchApi(mode, { HEARTBEAT_INTERVAL_SECONDS: "30" });
  try {
    const { tracker: worker, id } = await startFakeTraining(api.worker, events);

    const sent = new Map<number, number>();
    const delays: number[] = [];
    const response = await fetch(`${api.url}/trainmodel/stream/${id}`);
    const done = (async () => {
      const parser = createParser({
        onEvent: (e) => {
          const epoch = JSON.parse(e.data).metrics?.epoch;
          if (epoch && sent.has(epoch)) delays.push(performance.now() - sent.get(epoch)!);
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body!) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (delays.length === events) break;
      }
    })();
    await new Promise((r) => setTimeout(r, 300)); // the stream is live
    for (let epoch = 1; epoch <= events; epoch++) {
      sent.set(epoch, performance.now());
      await worker.update(id, {
        status: "TRAINING_MODEL",
        metrics: { epoch, epochs: events, loss: 1 / epoch, val_loss: null },
      });
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    await response.body?.cancel().catch(() => {});
    await worker.cancel(id);
    return {
      mode,
      events: delays.length,
      p50: percentile(delays, 50),
      p99: percentile(delays, 99),
      max: Math.max(...delays),
    };
  } finally {
    await api.close();
  }
}
