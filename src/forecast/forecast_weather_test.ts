import assert from "node:assert/strict";
import type { Broker } from "../broker/broker.ts";
import { createMemoryWeatherStore } from "../broker/memory_weather_store.ts";
import { weatherContext } from "./forecast_weather.ts";

Deno.test("a model without weather: the report names the request that links this meter to a site", async () => {
  const broker = { weather: createMemoryWeatherStore() } as unknown as Broker;
  const meter = { meter_type: "gas", meter_id: "b2" } as const;
  // A model without weather, forecasting the first day of 2020, as the meter is linked now.
  const report = async () =>
    (await weatherContext(
      broker,
      meter,
      await broker.weather.meterSite(meter),
      undefined,
      Date.UTC(2020, 0, 1),
      24,
    )).report(0, 24);
  const unlinked = await report();
  assert.equal(unlinked.used, false);
  assert.equal(unlinked.site_id, null);
  assert.match(unlinked.message, /PUT \/meters\/gas\/b2 \{"site_id": …\}\) and train again/);

  await broker.weather.setMeterSite(meter, "bedford");
  const linked = await report();
  assert.equal(linked.site_id, "bedford");
  assert.match(linked.message, /trained without weather/);
  // A site linked for its calendar alone has no temperature: the message says where to send it.
  assert.match(linked.message, /POST \/sites\/bedford\/weather\) and train again/);
});
