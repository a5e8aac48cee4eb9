import assert from "node:assert/strict";
import { captureLogs } from "./log_capture.ts";
import { parseConfig } from "../src/config.ts";
import { createMemoryBroker } from "../src/broker/memory_broker.ts";
import { startService } from "../src/server.ts";

Deno.test("a failed webhook pass is logged with its error's text, braces included", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  // What a Redis REST error looks like: JSON, whose braces LogTape would read as a placeholder.
  const failure = 'upstream answered {"error":"ERR busy, try later"}';
  broker.webhooks.claimDue = () => Promise.reject(new Error(failure));
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-test-" });
  const config = parseConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir });
  const logs = await captureLogs();
  const service = await startService(config, broker, { runJobs: false, mode: "api" });
  try {
    for (let i = 0; i < 100 && logs.lines.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const line = logs.lines.find((l) => l.includes("Webhook delivery pass failed"));
    assert.ok(line, logs.lines.join("\n"));
    assert.ok(line.includes(failure), line);
  } finally {
    await service.close();
    await logs.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
