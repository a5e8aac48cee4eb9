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
          [
            "JSON with a repeated key",
            "application/json",
            '[{"timestamp":"2019-01-02T00:00:00Z","value":1},{"timestamp":"2019-01-02T01:00:00Z","value":1,"value":2}]',
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

Deno.test("hostile uploads are refused by line and change nothing: impossible dates, far-future hours, 200,000 bad lines, reserved ids", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" });
  const upload = (body: string, meter = "gas/d4") =>
    fetch(`${service.url}/meters/${meter}/readings`, {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body,
    });
  const summary = async () => (await (await fetch(`${service.url}/meters/gas/d4`)).json());
  try {
    assert.equal((await upload("2021-03-01 00:00:00,5\n")).status, 200);
    const before = await summary();

    // D4: 29 February 2021 does not exist; it must not land on 1 March.
    for (const impossible of ["2021-02-29 00:00:00,9", "2021-02-28 24:00:00,9"]) {
      const response = await upload(`${impossible}\n`);
      const body = await response.json();
      assert.equal(response.status, 422, impossible);
      assert.equal(body.error.details.problems[0].line, 1);
      assert.match(body.error.details.problems[0].reason, /not a real date and hour/);
    }
    // D2: a reading dated 9999 would make every forecast span eight millennia.
    const future = await upload("9999-12-31 23:00:00,1\n");
    assert.equal(future.status, 422);
    assert.match((await future.json()).error.message, /outside the accepted span/);
    assert.deepEqual(await summary(), before, "nothing changed");

    // D3: 200,000 bad lines are a 422 with a bounded answer, not a stack overflow.
    const flood = await upload("x\n".repeat(200_000));
    const text = await flood.text();
    assert.equal(flood.status, 422, text.slice(0, 300));
    const error = JSON.parse(text).error;
    assert.equal(error.details.problem_count, 199_999);
    assert.equal(error.details.problems.length, 100, "the first 100 problems are listed");
    assert.ok(text.length < 64 * 1024, `${text.length} bytes of answer`);
    assert.deepEqual(await summary(), before, "nothing changed");

    // Reserved device names never become a folder name.
    const reserved = await upload("2021-03-01 00:00:00,5\n", "gas/CON");
    assert.equal(reserved.status, 422);
    assert.match((await reserved.json()).error.details.fields[0].message, /reserved/);
    const train = await service.train({ meter_id: "nul", meter_type: "gas" });
    assert.equal(train.response.status, 422);
    const trainError = train.json.error as { details: { fields: { field: string }[] } };
    assert.equal(trainError.details.fields[0].field, "meter_id");
  } finally {
    await service.close();
  }
});

for (const kind of ["sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name:
      `${kind} broker: uploads racing each other never pass the readings cap or split a meter's hourly grid`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const service = await startTestService({ SEED_DEMO_METERS: "false" }, kind);
      const post = (meter: string, body: string) =>
        fetch(`${service.url}/meters/${meter}/readings`, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body,
        });
      const hours = (from: number, n: number, minute = 0) =>
        Array.from({ length: n }, (_, i) => {
          const t = new Date(Date.UTC(2001, 0, 1) + (from + i) * 3_600_000 + minute * 60_000);
          return `${t.toISOString().slice(0, 19).replace("T", " ")},1`;
        }).join("\n");
      try {
        // D5: four 40,000-hour uploads at once, against a cap of 60,000.
        const four = await Promise.all(
          [0, 1, 2, 3].map((i) => post("electricity/cap", hours(i * 40_000, 40_000))),
        );
        const statuses = await Promise.all(four.map(async (r) => {
          const body = await r.json();
          return r.status === 200 ? 200 : `${r.status} ${body.error.code}`;
        }));
        assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(", "));
        assert.ok(statuses.every((s) => s === 200 || s === "422 too_many_readings"));
        const summary = await (await fetch(`${service.url}/meters/electricity/cap`)).json();
        assert.equal(summary.readings.count, 40_000, "one upload whole, the others not at all");

        // Two uploads to a new meter at once, at :00 and at :30.
        const grids = await Promise.all([
          post("gas/grid", hours(0, 500, 0)),
          post("gas/grid", hours(0, 500, 30)),
        ]);
        const codes = await Promise.all(
          grids.map(async (r) => r.status === 200 ? 200 : (await r.json()).error.code),
        );
        assert.equal(codes.filter((c) => c === 200).length, 1, codes.join(", "));
        assert.ok(codes.includes("off_grid") || codes.includes("invalid_readings"), codes.join());
        const grid = await (await fetch(`${service.url}/meters/gas/grid`)).json();
        assert.equal(grid.readings.count, 500, "one grid only");
      } finally {
        await service.close();
      }
    },
  });
}
