import assert from "node:assert/strict";
import { type BrokerKind, startTestService } from "./harness.ts";
import { needsRedis } from "./redis_server.ts";

const fixture = (name: string) =>
  Deno.readTextFile(new URL(`./fixtures/meters/${name}`, import.meta.url));

for (const kind of ["memory", "sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name:
      `${kind} broker: readings upload, merge by timestamp, and bad uploads that change nothing`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const service = await startTestService({ SEED_DEMO_METERS: "false" }, kind);
      const url = `${service.url}/meters/electricity/b0/readings`;
      const upload = (body: string, type = "text/csv") =>
        fetch(url, { method: "POST", headers: { "Content-Type": type }, body });
      const summary =
        async () => (await (await fetch(`${service.url}/meters/electricity/b0`)).json());
      try {
        const missing = await fetch(`${service.url}/meters/electricity/b0`);
        assert.equal(missing.status, 404);
        assert.match(
          (await missing.json()).error.message,
          /POST \/meters\/electricity\/b0\/readings/,
        );

        // The published file, as it is.
        const csv = await fixture("electricity_ucam_b0_2018.csv");
        const first = await upload(csv);
        const body = await first.json();
        assert.equal(first.status, 200, JSON.stringify(body));
        assert.equal(body.accepted, 8760);
        assert.equal(body.added, 8760);
        assert.equal(body.replaced, 0);
        assert.equal(body.readings.count, 8760);
        assert.equal(body.readings.first, "2018-01-01T00:00:00.000Z");
        assert.equal(body.readings.last, "2018-12-31T23:00:00.000Z");
        assert.ok(body.readings.zero_readings >= 40, "the export's zeros are counted");

        // Re-sending the last day replaces it; the next day appends.
        const lastDay = csv.trim().split("\n").slice(-24).map((l) => l.replace(/,.*$/, ",1.5"))
          .join("\n");
        const again = await (await upload(lastDay)).json();
        assert.deepEqual([again.added, again.replaced, again.readings.count], [0, 24, 8760]);
        const nextDay = Array.from({ length: 24 }, (_, h) => ({
          timestamp: `2019-01-01T${String(h).padStart(2, "0")}:00:00Z`,
          value: 20 + h,
        }));
        const appended = await (await upload(JSON.stringify(nextDay), "application/json")).json();
        assert.deepEqual([appended.added, appended.replaced, appended.readings.count], [
          24,
          0,
          8784,
        ]);
        assert.equal(appended.readings.last, "2019-01-01T23:00:00.000Z");

        // Every bad upload is refused whole, names its lines, and changes nothing.
        const before = await summary();
        const bad: [string, string, string, number[]][] = [
          ["non-numeric", "text/csv", "2019-01-02 00:00:00,5\n2019-01-02 01:00:00,five", [2]],
          ["negative", "text/csv", "2019-01-02 00:00:00,5\n2019-01-02 01:00:00,-1", [2]],
          ["absurd", "text/csv", "2019-01-02 00:00:00,1e12", [1]],
          ["unparseable", "text/csv", "hello\nworld,1\n", [2]],
          ["duplicate timestamps", "text/csv", "2019-01-02 00:00:00,5\n2019-01-02 00:00:00,6", [2]],
          ["off the hourly grid", "text/csv", "2019-01-02 00:30:00,5", [1]],
          [
            "JSON with a bad item",
            "application/json",
            '[{"timestamp":"2019-01-02T00:00:00Z","value":1},{"value":2}]',
            [2],
          ],
          ["empty", "text/csv", "", [0]],
        ];
        for (const [name, type, text, lines] of bad) {
          const response = await upload(text, type);
          const error = (await response.json()).error;
          assert.equal(response.status, 422, name);
          assert.equal(error.code, "invalid_readings", name);
          assert.deepEqual(
            error.details.problems.map((p: { line: number }) => p.line),
            lines,
            name,
          );
          assert.match(error.message, /nothing was stored/, name);
        }
        const huge = await upload("2019-01-02 00:00:00,1\n".repeat(1_000_000));
        assert.equal(huge.status, 413);
        assert.equal((await huge.json()).error.code, "body_too_large");
        assert.deepEqual(await summary(), before, "the stored readings are as they were");

        const badType = await fetch(`${service.url}/meters/plutonium/b0/readings`, {
          method: "POST",
          body: "",
        });
        assert.equal(badType.status, 422);
        assert.equal((await badType.json()).error.details.fields[0].field, "meter_type");
      } finally {
        await service.close();
      }
    },
  });
}
