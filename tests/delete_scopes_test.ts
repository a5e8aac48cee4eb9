/**
 * Who may delete: readings need the `train` scope and the meter, a whole
 * meter needs `admin`.
 */
import assert from "node:assert/strict";
import { createApiKey } from "../src/auth/api_keys.ts";
import { startTestService, type TestService } from "./harness.ts";

const admin = await createApiKey({ name: "ops", scopes: ["read", "train", "admin"], meters: null });
const reader = await createApiKey({ name: "viewer", scopes: ["read"], meters: null });
const gasTeam = await createApiKey({
  name: "gas team",
  scopes: ["read", "train"],
  meters: ["*gas*"],
});
const API_KEYS = JSON.stringify([admin.record, reader.record, gasTeam.record]);

async function call(
  service: TestService,
  method: string,
  path: string,
  key: string,
  body?: string,
) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "text/csv" },
    body,
  });
  return { status: response.status, json: await response.json() };
}

Deno.test("deleting readings needs train and the meter; deleting a meter needs admin", async () => {
  const service = await startTestService({ API_KEYS, SEED_DEMO_METERS: "false" });
  try {
    const csv = "2024-01-01 00:00:00,1\n2024-01-01 01:00:00,2\n2024-01-01 02:00:00,3\n";
    for (const id of ["gas_1", "main_1"]) {
      const up = await call(service, "POST", `/meters/gas/${id}/readings`, admin.key, csv);
      assert.equal(up.status, 200);
    }
    const range = "readings?from=2024-01-01T02:00:00Z";
    const byReader = await call(service, "DELETE", `/meters/gas/gas_1/${range}`, reader.key);
    assert.equal(byReader.status, 403);
    assert.equal(byReader.json.error.code, "forbidden_scope");
    const otherMeter = await call(service, "DELETE", `/meters/gas/main_1/${range}`, gasTeam.key);
    assert.equal(otherMeter.status, 403);
    assert.equal(otherMeter.json.error.code, "forbidden_meter");
    const own = await call(service, "DELETE", `/meters/gas/gas_1/${range}`, gasTeam.key);
    assert.equal(own.status, 200);
    assert.equal(own.json.deleted, 1);

    const notAdmin = await call(service, "DELETE", "/meters/gas/gas_1", gasTeam.key);
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.json.error.code, "forbidden_scope");
    const byAdmin = await call(service, "DELETE", "/meters/gas/gas_1", admin.key);
    assert.equal(byAdmin.status, 200);
    assert.deepEqual(byAdmin.json.deleted, { readings: 2, model: false });
    const left = await call(service, "GET", "/meters", admin.key);
    assert.deepEqual(left.json.meters.map((m: { meter_id: string }) => m.meter_id), ["main_1"]);
  } finally {
    await service.close();
  }
});
