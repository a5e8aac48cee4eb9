/**
 * Starts the real service (embedded mode by default: the SQLite broker,
 * in-process job runner, training in Web Workers) on a free port for a
 * test; or on the in-memory or a Redis broker.
 *
 * @module
 */
import { type BrokerKind, testBroker } from "./test_brokers.ts";

export type { BrokerKind };
import { parseConfig } from "../src/config.ts";
import { type ServiceHandle, startService } from "../src/server.ts";
import type { Task } from "../src/domain/task.ts";
import { openStream } from "./sse_client.ts";

/** A running test service and helpers to call it. */
export interface TestService extends ServiceHandle {
  /** POSTs a training request; returns the response and its JSON. */
  train(body: unknown): Promise<{ response: Response; json: Record<string, unknown> }>;
  /**
   * POSTs a training request, follows its stream to the end and returns the
   * final status; throws, naming the request and how the task ended, unless
   * it ended SUCCESS.
   */
  trainToSuccess(body: Record<string, unknown>): Promise<Task>;
  /** Starts training a meter and returns the created task. */
  start(meterId?: string, options?: Record<string, unknown>): Promise<Task>;
  /** GETs a task's status. */
  status(taskId: string): Promise<Task>;
  /** Open event streams, from `/health`. */
  openStreams(): Promise<number>;
}

/** Starts the service with these environment overrides, on the given broker. */
export async function startTestService(
  env: Record<string, string> = {},
  kind: BrokerKind = "sqlite",
): Promise<TestService> {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-test-" });
  const config = parseConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, ...env });
  const broker = await testBroker(kind, config.taskTtlSeconds);
  const handle = await startService(config, broker, {
    runJobs: true,
    mode: kind === "redis" ? "redis" : "embedded",
  });

  async function train(body: unknown) {
    const response = await fetch(`${handle.url}/trainmodel/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { response, json: await response.json() };
  }

  return {
    ...handle,
    train,
    async trainToSuccess(body) {
      const { response, json } = await train(body);
      if (response.status !== 202) {
        throw new Error(
          `POST /trainmodel/ ${JSON.stringify(body)}: ${response.status} ${JSON.stringify(json)}`,
        );
      }
      const stream = await openStream(`${handle.url}/trainmodel/stream/${json.task_id}`);
      let last: Task | undefined;
      for await (const m of stream.messages) if (m.id) last = JSON.parse(m.data);
      if (last?.status !== "SUCCESS") {
        throw new Error(
          `Training ${JSON.stringify(body)} ended ${last?.status}: ${
            JSON.stringify(last?.error_details)
          }`,
        );
      }
      return last;
    },
    async start(meterId = "meter_test_001", options = { epochs: 2 }) {
      const meterType = meterId.startsWith("meter_gas") ? "gas" : "electricity";
      const { response, json } = await train({
        meter_id: meterId,
        meter_type: meterType,
        ...options,
      });
      if (response.status !== 202) throw new Error(`POST failed: ${JSON.stringify(json)}`);
      return json as unknown as Task;
    },
    async status(taskId: string) {
      const response = await fetch(`${handle.url}/trainmodel/status/${taskId}`);
      return await response.json();
    },
    async openStreams() {
      const health = await (await fetch(`${handle.url}/health`)).json();
      return health.dependencies.event_streams.open;
    },
    async close() {
      await handle.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}
