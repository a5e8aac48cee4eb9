/**
 * The demo meters: a year of real hourly readings each, seeded into the
 * broker at start when missing, so the quick start works out of the box.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import type { MeterRef } from "../domain/meter.ts";
import { parseReadingsCsv } from "./csv.ts";

/** A demo meter and the bundled file its readings come from. */
export interface DemoMeter extends MeterRef {
  /** File name under `src/meters/demo_data/`. */
  file: string;
}

/** The demo meters (see `demo_data/README.md` for the source). */
export const DEMO_METERS: readonly DemoMeter[] = [
  {
    meter_id: "meter_test_001",
    meter_type: "electricity",
    file: "electricity_ucam_b21_2019.csv",
  },
  {
    meter_id: "meter_test_002",
    meter_type: "electricity",
    file: "electricity_ucam_b40_2019.csv",
  },
  {
    meter_id: "meter_gas_001",
    meter_type: "gas",
    file: "gas_ucam_b57_2019.csv",
  },
];

/** Seeds each demo meter that has no readings yet; returns the ids seeded. */
export async function seedDemoMeters(broker: Broker): Promise<string[]> {
  const seeded: string[] = [];
  for (const meter of DEMO_METERS) {
    if (await broker.countReadings(meter) > 0) continue;
    const text = await Deno.readTextFile(
      new URL(`./demo_data/${meter.file}`, import.meta.url),
    );
    await broker.mergeReadings(meter, parseReadingsCsv(text).series);
    seeded.push(meter.meter_id);
  }
  return seeded;
}
