/**
 * `deno task client` end to end: the client as its own process against the
 * real service in another (embedded mode, a temporary DATA_DIR, on a free
 * port), its exit codes, its output without a terminal and with `--json`,
 * `--new` and `--batch`, and the `--compare` table's numbers checked
 * against what crossed the wire (a counting proxy in between).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Task } from "../src/domain/task.ts";
import { type Proc, spawnDeno } from "./processes.ts";
import { freePort } from "./redis_server.ts";
import { startCountingProxy } from "./counting_proxy.ts";

const FINAL = new Set(["SUCCESS", "FAILURE", "CANCELLED"]);

async function withServer(
  run: (url: string, port: number) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-client-" });
  const port = freePort();
  const server = spawnDeno("server", "main.ts", {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    ...env,
  });
  try {
    await server.waitFor(/listening on/, 60_000);
    await run(`http://127.0.0.1:${port}`, port);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Runs the client to its end, without a terminal. */
async function client(args: string[], env: Record<string, string> = {}) {
  const proc = spawnDeno("client", "client/main.ts", env, args);
  const status = await proc.child.status;
  await proc.stop();
  return { code: status.code, proc };
}

/** What the client printed on stdout only. */
async function stdoutOf(
  args: string[],
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../client/main.ts", import.meta.url).pathname, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  return {
    code: output.code,
    lines: text.split("\n").filter(Boolean),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** Every status event of a task from the first, read to the end of its stream. */
async function history(url: string, taskId: string): Promise<Task[]> {
  const response = await fetch(`${url}/trainmodel/stream/${taskId}?events=status`, {
    headers: { "Last-Event-ID": "0-0" },
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  return text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
}

async function waitForOutput(proc: Proc, pattern: RegExp): Promise<void> {
  await proc.waitFor(pattern, 120_000);
}

Deno.test("deno task client: exit codes, plain lines, --json, --new, --batch and --compare against a real server", async (t) => {
  await withServer(async (url, port) => {
    await t.step("--new follows to SUCCESS, exit 0, one plain line per status change", async () => {
      const { code, lines, stderr } = await stdoutOf([
        "--url",
        url,
        "--new",
        "--meter-id",
        "meter_test_001",
        "--meter-type",
        "electricity",
        "--epochs",
        "3",
      ]);
      assert.equal(code, 0, stderr);
      const id = /Started task (\S+) for/.exec(lines[0])?.[1];
      assert.ok(id, lines[0]);
      const statuses = lines.slice(1, -1).map((l) =>
        / electricity\/meter_test_001 (\S+) \d+%/.exec(l)?.[1]
      );
      // What the task really went through, each status once in a row.
      const real = (await history(url, id)).map((t) => t.status).filter((s, i, all) =>
        s !== all[i - 1]
      );
      assert.deepEqual(statuses, real.slice(real.length - statuses.length));
      assert.ok(statuses.length >= 3, `a line per status: ${lines.join("\n")}`);
      assert.equal(statuses.at(-1), "SUCCESS");
      assert.match(lines.at(-1)!, new RegExp(`\\(task ${id}\\): SUCCESS after`));
    });

    await t.step(
      "--json: every line parses; the last is the final status, as the API has it",
      async () => {
        const started = await (await fetch(`${url}/trainmodel/`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ meter_id: "meter_gas_001", meter_type: "gas", epochs: 4 }),
        })).json();
        const { code, lines } = await stdoutOf(["--url", url, "--json", started.task_id]);
        assert.equal(code, 0);
        const events = lines.map((l) => JSON.parse(l));
        const statuses = events.filter((e) => e.status);
        assert.ok(statuses.length >= 2);
        assert.deepEqual(
          events.at(-1),
          await (await fetch(`${url}/trainmodel/status/${started.task_id}`)).json(),
        );
        assert.equal(events.at(-1).status, "SUCCESS");
        // Nothing repeated, in order: the same events as the task's history, from where it joined.
        const real = await history(url, started.task_id);
        const from = real.findIndex((e) => e.updated_at === statuses[0].updated_at);
        assert.ok(from >= 0);
        assert.deepEqual(statuses, real.slice(from));
      },
    );

    await t.step("an unknown task: exit 4, said plainly", async () => {
      const { code, stderr } = await stdoutOf([
        "--url",
        url,
        "00000000-0000-4000-8000-00000000dead",
      ]);
      assert.equal(code, 4);
      assert.match(stderr, /unknown or expired/);
    });

    await t.step("bad arguments and a refused request (422): exit 2", async () => {
      const typo = await stdoutOf(["--url", url, "--new", "--meter-id", "m"]);
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /--new needs both --meter-id and --meter-type/);
      const empty = await stdoutOf([
        "--url",
        url,
        "--new",
        "--meter-id",
        "nobody",
        "--meter-type",
        "gas",
      ]);
      assert.equal(empty.code, 2);
      assert.match(empty.stderr, /no readings stored/);
    });

    await t.step("a server that is not there: exit 5", async () => {
      const { code, stderr } = await stdoutOf([
        "--url",
        `http://127.0.0.1:${freePort()}`,
        "00000000-0000-4000-8000-00000000dead",
      ]);
      assert.equal(code, 5);
      assert.match(stderr, /Cannot reach the server/);
    });

    await t.step("cancelled during the run (DELETE): exit 3", async () => {
      const proc = spawnDeno("client", "client/main.ts", {}, [
        "--url",
        url,
        "--new",
        "--meter-id",
        "meter_test_002",
        "--meter-type",
        "electricity",
        "--epochs",
        "500",
        "--batch-size",
        "32",
      ]);
      try {
        await waitForOutput(proc, /TRAINING_MODEL/);
        const id = /Started task (\S+) for/.exec(proc.output())![1];
        const cancel = await fetch(`${url}/trainmodel/${id}`, { method: "DELETE" });
        assert.equal(cancel.status, 202);
        await cancel.body?.cancel();
        const status = await proc.child.status;
        await proc.stop(); // and its output read to the end
        assert.equal(status.code, 3, proc.output());
        assert.match(proc.output(), /CANCELLED/);
      } finally {
        await proc.stop();
      }
    });

    await t.step("Ctrl-C: exit 130, and the task goes on on the server", async () => {
      let started: string | null = null;
      const proc = spawnDeno("client", "client/main.ts", {}, [
        "--url",
        url,
        "--new",
        "--meter-id",
        "meter_test_002",
        "--meter-type",
        "electricity",
        "--epochs",
        "500",
        "--batch-size",
        "32",
      ]);
      try {
        await waitForOutput(proc, /TRAINING_MODEL/);
        const id = /Started task (\S+) for/.exec(proc.output())![1];
        started = id;
        proc.child.kill("SIGINT");
        const status = await proc.child.status;
        await proc.stop(); // and its output read to the end
        assert.equal(status.code, 130, proc.output());
        assert.match(proc.output(), /Interrupted/);
        const task = await (await fetch(`${url}/trainmodel/status/${id}`)).json();
        assert.equal(task.status, "TRAINING_MODEL");
      } finally {
        await proc.stop();
        // Never leave a long task running for the steps after.
        if (started) {
          await (await fetch(`${url}/trainmodel/${started}`, { method: "DELETE" })).body?.cancel();
        }
      }
    });

    await t.step(
      "--batch of a meter already training follows its running task (409 nothing_to_train)",
      async () => {
        const running = await (await fetch(`${url}/trainmodel/`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ meter_id: "meter_gas_001", meter_type: "gas", epochs: 60 }),
        })).json();
        const { code, proc } = await client(["--url", url, "--batch", "meter_gas_001:gas"]);
        assert.equal(code, 0, proc.output());
        assert.match(
          proc.output(),
          new RegExp(`Following task ${running.task_id}, already training gas/meter_gas_001`),
        );
        assert.match(proc.output(), new RegExp(`\\(task ${running.task_id}\\): SUCCESS`));
        assert.doesNotMatch(proc.output(), /Started task/);

        // A batch that starts nothing names each meter and why, and exits 2.
        const none = await client(["--url", url, "--batch", "no_such_meter:gas,nor_this:water"]);
        assert.equal(none.code, 2, none.proc.output());
        assert.match(none.proc.output(), /Skipped gas\/no_such_meter: No readings are stored/);
        assert.match(none.proc.output(), /Skipped water\/nor_this: No readings are stored/);
        assert.match(none.proc.output(), /Nothing was queued: all 2 meters were skipped\./);
      },
    );

    const proxy = startCountingProxy(port);
    try {
      await t.step("--batch: one task per meter in one request, all on one stream", async () => {
        const { code, proc } = await client([
          "--url",
          proxy.url,
          "--batch",
          "meter_test_001:electricity,meter_gas_001:gas",
          "--epochs",
          "2",
        ]);
        assert.equal(code, 0, proc.output());
        const ids = [...proc.output().matchAll(/Started task (\S+) for/g)].map((m) => m[1]);
        assert.equal(ids.length, 2);
        for (const id of ids) assert.match(proc.output(), new RegExp(`\\(task ${id}\\): SUCCESS`));
        const streams = proxy.connections.flatMap((c) => c.requests.map((r) => r.line)).filter((
          r,
        ) => r.startsWith("GET /trainmodel/stream"));
        assert.deepEqual(streams, [`GET /trainmodel/stream?task_ids=${ids.join(",")}`]);
        const starts = proxy.connections.flatMap((c) => c.requests.map((r) => r.line)).filter((
          r,
        ) => r.startsWith("POST /trainmodel"));
        assert.deepEqual(starts, ["POST /trainmodel/batch"], "one request starts them all");
        assert.match(proc.output(), /Group \S+: 2 tasks/);
      });

      await t.step("--compare: the table's numbers are what crossed the wire", async () => {
        proxy.connections.length = 0;
        const { code, lines, stderr } = await stdoutOf([
          "--url",
          proxy.url,
          "--json",
          "--compare",
          "--new",
          "--meter-id",
          "meter_test_002",
          "--meter-type",
          "electricity",
          "--epochs",
          "25",
        ]);
        assert.equal(code, 0, stderr);
        const { compare } = JSON.parse(lines.at(-1)!);
        assert.equal(compare.final.status, "SUCCESS");
        await new Promise((r) => setTimeout(r, 200)); // the proxy's last writes
        const id: string = compare.taskId;
        const requests = proxy.connections.flatMap((c) => c.requests);
        const stream = requests.filter((r) => r.line.startsWith("GET /trainmodel/stream"));
        const polls = requests.filter((r) => r.line.startsWith("GET /trainmodel/status/"));
        // The stream: one request, every byte of its answer counted.
        assert.equal(compare.stream.requests, 1);
        assert.deepEqual(stream.map((r) => r.line), [`GET /trainmodel/stream/${id}`]);
        assert.equal(compare.stream.bytes, stream[0].bytesToClient);
        // Polling: as many requests as the proxy carried, about one per 2 s, every byte counted.
        assert.equal(compare.polling.requests, polls.length);
        assert.ok(polls.every((r) => r.line === `GET /trainmodel/status/${id}`));
        assert.ok(
          Math.abs(compare.polling.requests - (compare.seconds / 2 + 1)) <= 1.5,
          `${compare.polling.requests} polls in ${compare.seconds} s`,
        );
        assert.equal(compare.polling.bytes, polls.reduce((n, r) => n + r.bytesToClient, 0));
        assert.ok(compare.polling.bytes > 0 && compare.stream.bytes > 0);
        // Changes: the stream saw every one since it joined; polling no more than that.
        const real = await history(url, id);
        const firstSeen = real.length - compare.stream.changes;
        assert.ok(
          firstSeen >= 0 && firstSeen <= 2,
          `stream saw ${compare.stream.changes} of ${real.length}`,
        );
        assert.ok(compare.stream.changes >= 25, "one per epoch at least");
        assert.ok(compare.polling.changes <= compare.stream.changes);
        assert.equal(compare.polling.changes, compare.polling.delaysMs.length);
        assert.equal(compare.stream.changes, compare.stream.delaysMs.length);
        // Every change seen was seen after it happened, and the stream's soonest.
        for (const d of [...compare.stream.delaysMs, ...compare.polling.delaysMs]) {
          assert.ok(d >= 0);
        }
        // The JSON lines before the table: the stream's events, ending with the final status.
        const before = lines.slice(0, -1).map((l) => JSON.parse(l));
        assert.equal(before.at(-1).status, "SUCCESS");
        assert.equal(before.filter((e) => e.status).length, compare.stream.changes);
        assert.ok(FINAL.has(before.at(-1).status));
      });
    } finally {
      await proxy.close();
    }
  });
});

Deno.test("deno task client --batch: a fleet of 101 meters is followed on two streams (100 + 1), one summary", async () => {
  await withServer(async (url, port) => {
    // Two days of readings each: enough to start a task, too few to train on,
    // so each task ends FAILURE in its first stage. This checks the following
    // of a fleet past one stream's 100 tasks without training 101 models
    // (minutes on a 2-core machine); training itself is checked above.
    const lines = ["timestamp,value"];
    for (let h = 0; h < 48; h++) {
      lines.push(
        `${new Date(Date.UTC(2019, 0, 1, h)).toISOString()},${(1 + (h % 24) / 10).toFixed(1)}`,
      );
    }
    const ids = Array.from({ length: 101 }, (_, i) => `fleet_${String(i).padStart(3, "0")}`);
    for (const id of ids) {
      const response = await fetch(`${url}/meters/electricity/${id}/readings`, {
        method: "POST",
        headers: { "Content-Type": "text/csv" },
        body: lines.join("\n") + "\n",
      });
      assert.equal(response.status, 200, await response.text());
    }
    const proxy = startCountingProxy(port);
    try {
      const { code, proc } = await client([
        "--url",
        proxy.url,
        "--batch",
        ids.map((id) => `${id}:electricity`).join(","),
        "--epochs",
        "1",
      ]);
      const output = proc.output();
      assert.equal(code, 1, `every task failed on two days of readings: ${output.slice(-2000)}`);
      const started = [...output.matchAll(/Started task (\S+) for electricity\/(\S+)\./g)];
      assert.deepEqual(started.map((m) => m[2]), ids);
      const taskIds = started.map((m) => m[1]);
      assert.match(output, /Following 101 tasks on 2 streams\./);
      // One ending line per task, each with its own final status.
      for (const id of taskIds) assert.match(output, new RegExp(`\\(task ${id}\\): FAILURE`));
      const streams = proxy.connections.flatMap((c) => c.requests.map((r) => r.line)).filter((
        r,
      ) => r.startsWith("GET /trainmodel/stream"));
      // The batch's own chunks, as the server made them: 100 tasks, then 1.
      assert.deepEqual(streams.toSorted(), [
        `GET /trainmodel/stream/${taskIds[100]}`,
        `GET /trainmodel/stream?task_ids=${taskIds.slice(0, 100).join(",")}`,
      ]);
    } finally {
      await proxy.close();
    }
  }, { RATE_LIMIT_UPLOAD_PER_MINUTE: "200" }); // 101 uploads from one caller
});
