/**
 * Readings-upload throughput through the HTTP API in embedded mode: real
 * meter-years posted as CSV, first as new readings, then again (every
 * reading replaces one).
 *
 * @module
 */
import { startBenchApi } from "./broker_pair.ts";

/** Throughput of one store. */
export interface UploadResult {
  meters: number;
  readings: number;
  firstPerSecond: number;
  againPerSecond: number;
  /** JavaScript heap kept per stored meter-year, after garbage collection. */
  heapPerMeterYear: number;
}

/** Heap in use after a full collection (the bench runs with --expose-gc). */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().heapUsed;
}

const files = ["b0", "b5", "b21", "b40", "b119"].map((b) =>
  new URL(`./data/electricity_ucam_${b}_2018.csv`, import.meta.url)
);

/** Uploads `meters` meter-years to a fresh service on `store`, twice. */
export async function measureUploads(
  store: "sqlite" | "memory",
  meters: number,
): Promise<UploadResult> {
  const service = await startBenchApi(store, { SEED_DEMO_METERS: "false" });
  const bodies = await Promise.all(files.map((f) => Deno.readTextFile(f)));
  try {
    const pass = async () => {
      let readings = 0;
      const started = performance.now();
      for (let i = 0; i < meters; i++) {
        const response = await fetch(`${service.url}/meters/electricity/bench_${i}/readings`, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body: bodies[i % bodies.length],
        });
        const json = await response.json();
        if (response.status !== 200) throw new Error(`upload failed: ${JSON.stringify(json)}`);
        readings += json.accepted;
      }
      return { readings, seconds: (performance.now() - started) / 1000 };
    };
    const heapBefore = heapUsed();
    const first = await pass();
    const heapAfter = heapUsed();
    const again = await pass();
    return {
      meters,
      readings: first.readings,
      firstPerSecond: first.readings / first.seconds,
      againPerSecond: again.readings / again.seconds,
      heapPerMeterYear: (heapAfter - heapBefore) / meters,
    };
  } finally {
    await service.close();
  }
}
