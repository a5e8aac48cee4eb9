import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { brokerConformance, jobOf, sampleTask } from "./broker_conformance.ts";
import { startSqliteBroker } from "../../tests/test_brokers.ts";
import { weatherStoreConformance } from "./weather_store_conformance.ts";
import type { Broker } from "./broker.ts";
import { compareEventIds } from "./event_id.ts";
import {
  APPLICATION_ID,
  openSqliteBroker,
  type SqliteBrokerOptions,
  StoreOpenError,
} from "./sqlite_broker.ts";
import type { Task } from "../domain/task.ts";

// The same conformance suite as the memory and Redis brokers, on a fresh file.
brokerConformance("sqlite", startSqliteBroker);
weatherStoreConformance("sqlite", startSqliteBroker);

/** Runs `fn` with the path of a database file in a new temporary directory. */
async function withFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wattcast-sqlite-" });
  try {
    await fn(`${dir}/wattcast.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function open(path: string, overrides: Partial<SqliteBrokerOptions> = {}): Broker {
  return openSqliteBroker({ path, taskTtlSeconds: 3600, ...overrides });
}

async function createTask(broker: Broker, overrides: Partial<Task> = {}) {
  const task = sampleTask(overrides);
  const result = await broker.createTask(task, jobOf(task));
  assert.ok(result.created);
  return result.event;
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The StoreOpenError that opening `path` throws; fails if it opens. */
function openError(path: string): StoreOpenError {
  try {
    open(path).close();
  } catch (error) {
    assert.ok(error instanceof StoreOpenError, `expected a StoreOpenError, got ${error}`);
    assert.equal(error.name, "StoreOpenError");
    assert.ok(error.message.includes(path), `the message names ${path}: ${error.message}`);
    return error;
  }
  assert.fail(`opening ${path} should have failed`);
}

/** Asserts that opening `path` is refused with a message naming it, and changes nothing. */
async function assertRefused(path: string, pattern: RegExp): Promise<StoreOpenError> {
  const before = await sha256(path);
  const error = openError(path);
  assert.match(error.message, pattern);
  assert.equal(await sha256(path), before, "the refused file is unchanged");
  assert.equal(await exists(`${path}-wal`), false, "no -wal left beside it");
  assert.equal(await exists(`${path}-shm`), false, "no -shm left beside it");
  return error;
}

/** A closed Wattcast database with readings for a few meters. */
async function writeDatabase(path: string): Promise<void> {
  const broker = open(path);
  const h = 3_600_000;
  for (const meter_id of ["a", "b", "c", "d"]) {
    const timestamps = Array.from({ length: 8760 }, (_, i) => i * h);
    await broker.mergeReadings({ meter_id, meter_type: "gas" }, {
      timestamps,
      values: timestamps.map((_, i) => i / 7),
    });
  }
  await broker.close();
  assert.equal(await exists(`${path}-wal`), false, "a clean close folds the WAL into the file");
}

Deno.test("sqlite broker: a reopened file keeps tasks, event logs, queued jobs, readings and models", async () => {
  await withFile(async (path) => {
    let broker = open(path, { maxEventsPerTask: 5 });
    let running = await createTask(broker, { meter_id: "running" });
    const log = [running];
    for (let p = 1; p <= 6; p++) {
      const result = await broker.commitTask({ ...running.task, progress: p }, running.id);
      assert.ok(result.committed);
      running = result.event;
      log.push(running);
    }
    const first = await createTask(broker, { meter_id: "done" });
    const done = await broker.commitTask({ ...first.task, status: "SUCCESS" }, first.id);
    assert.ok(done.committed);
    const queued = await createTask(broker, { meter_id: "queued" });
    const meter = { meter_id: "m", meter_type: "electricity" as const };
    await broker.mergeReadings(meter, { timestamps: [7_200_000, 0], values: [0.1, 0.3] });
    const whole = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    const model = { trainedAt: "2026-03-04T05:06:07.000Z", json: '{"k":1}', weights: whole };
    await broker.putModel(meter, { ...model, weights: whole.subarray(100, 200) });
    await broker.close();
    await broker.close(); // idempotent

    broker = open(path, { maxEventsPerTask: 5 });
    try {
      assert.equal(broker.location, path);
      assert.deepEqual(await broker.getTask(running.task.task_id), running);
      assert.deepEqual(
        await broker.readEvents(running.task.task_id, "0-0"),
        log.slice(-5),
        "the log, trimmed to maxEventsPerTask, in order",
      );
      assert.deepEqual(await broker.getTask(first.task.task_id), done.event);
      assert.deepEqual(await broker.readEvents(first.task.task_id, "0-0"), [first, done.event]);
      const again = sampleTask({ meter_id: "running" });
      assert.deepEqual(await broker.createTask(again, jobOf(again)), {
        created: false,
        activeTaskId: running.task.task_id,
      }, "the running task still holds its meter");
      assert.deepEqual(await broker.getReadings(meter), {
        timestamps: [0, 7_200_000],
        values: [0.3, 0.1],
      });
      assert.deepEqual(await broker.getModel(meter), {
        ...model,
        weights: whole.slice(100, 200),
      });
      const jobs = [await broker.claimJob("w", 60_000), await broker.claimJob("w", 60_000)];
      assert.deepEqual(
        jobs.map((d) => [d?.job.meter_id, d?.attempt]),
        [["running", 1], ["done", 1]],
        "queued jobs, oldest first, never claimed",
      );
      const third = await broker.claimJob("w", 60_000);
      assert.equal(third?.job.task_id, queued.task.task_id);
      assert.equal(await broker.claimJob("w", 60_000), null);
    } finally {
      await broker.close();
    }
  });
});

Deno.test("sqlite broker: a job leased by a killed process is claimed again at once, as attempt 2", async () => {
  await withFile(async (path) => {
    const task = sampleTask({ meter_id: "killed" });
    const module = new URL("./sqlite_broker.ts", import.meta.url).href;
    const code = `
      import { openSqliteBroker } from ${JSON.stringify(module)};
      const broker = openSqliteBroker({ path: ${JSON.stringify(path)}, taskTtlSeconds: 3600 });
      const task = ${JSON.stringify(task)};
      await broker.createTask(task, ${JSON.stringify(jobOf(task))});
      const delivery = await broker.claimJob("doomed", 600000);
      console.log(JSON.stringify(delivery));
      setInterval(() => {}, 1000);
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    try {
      while (!output.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) break;
        output += value;
      }
      const leased = JSON.parse(output);
      assert.equal(leased.attempt, 1);
      assert.equal(leased.job.task_id, task.task_id);

      assert.match(openError(path).message, /in use by another Wattcast process/);
    } finally {
      child.kill("SIGKILL");
      await lines.cancel();
      await child.status;
    }

    const broker = open(path);
    try {
      assert.equal((await broker.getTask(task.task_id))?.task.status, "PENDING");
      const retry = await broker.claimJob("survivor", 600_000);
      assert.equal(retry?.job.task_id, task.task_id, "no wait for the dead process's lease");
      assert.equal(retry?.attempt, 2);
      assert.equal(await broker.claimJob("other", 600_000), null);
    } finally {
      await broker.close();
    }
  });
});

Deno.test("sqlite broker: event ids keep increasing after a reopen with a clock that went back", async () => {
  await withFile(async (path) => {
    let clock = 5_000_000;
    let broker = open(path, { now: () => clock });
    const first = await createTask(broker);
    const last = await broker.commitTask({ ...first.task, progress: 1 }, first.id);
    assert.ok(last.committed);
    await broker.close();

    clock = 1_000_000;
    broker = open(path, { now: () => clock });
    try {
      const next = await broker.commitTask({ ...last.event.task, progress: 2 }, last.event.id);
      assert.ok(next.committed);
      assert.ok(compareEventIds(next.event.id, last.event.id) > 0, next.event.id);
      const other = await createTask(broker);
      assert.ok(compareEventIds(other.id, next.event.id) > 0, other.id);
      const log = await broker.readEvents(first.task.task_id, "0-0");
      assert.deepEqual(log.map((e) => e.task.progress), [0, 1, 2]);
    } finally {
      await broker.close();
    }
  });
});

Deno.test("sqlite broker: an expired task stays gone after a reopen, and is purged from the file", async () => {
  await withFile(async (path) => {
    let clock = 1_000_000;
    let broker = open(path, { taskTtlSeconds: 10, now: () => clock });
    const first = await createTask(broker);
    const done = await broker.commitTask({ ...first.task, status: "FAILURE" }, first.id);
    assert.ok(done.committed);
    const live = await createTask(broker);
    await broker.close();

    clock += 9_000;
    broker = open(path, { taskTtlSeconds: 10, now: () => clock });
    assert.deepEqual(await broker.getTask(first.task.task_id), done.event, "kept until expiry");
    await broker.close();

    clock += 1_000;
    broker = open(path, { taskTtlSeconds: 10, now: () => clock });
    try {
      assert.equal(await broker.getTask(first.task.task_id), null);
      assert.deepEqual(await broker.readEvents(first.task.task_id, "0-0"), []);
      assert.deepEqual(await broker.getTask(live.task.task_id), live, "live tasks do not expire");
    } finally {
      await broker.close();
    }
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const rows = db.prepare("SELECT count(*) AS n FROM events WHERE task_id = ?")
        .get(first.task.task_id);
      assert.equal(rows?.n, 0, "its events were deleted at open");
    } finally {
      db.close();
    }
  });
});

Deno.test("sqlite broker: a missing directory is created and an empty file is initialised", async () => {
  await withFile(async (path) => {
    const nested = path.replace(/wattcast\.db$/, "deeper/still/wattcast.db");
    const broker = open(nested);
    await broker.ping();
    await broker.close();
    await Deno.writeFile(path, new Uint8Array());
    const empty = open(path);
    await createTask(empty);
    await empty.close();
    for (const file of [nested, path]) {
      const db = new DatabaseSync(file, { readOnly: true });
      try {
        assert.equal(db.prepare("PRAGMA application_id").get()?.application_id, APPLICATION_ID);
        assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, 1);
      } finally {
        db.close();
      }
    }
  });
});

Deno.test("sqlite broker: a file of random bytes is refused and left unchanged", async () => {
  await withFile(async (path) => {
    await Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(16_384)));
    await assertRefused(path, /damaged or not a Wattcast database.*backup.*move it away/);
  });
});

Deno.test("sqlite broker: a truncated database is refused and left unchanged", async () => {
  await withFile(async (path) => {
    await writeDatabase(path);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assertRefused(path, /damaged or not a Wattcast database/);
  });
});

Deno.test("sqlite broker: a database overwritten in the middle is refused and left unchanged", async () => {
  await withFile(async (path) => {
    await writeDatabase(path);
    const bytes = await Deno.readFile(path);
    const pageSize = (bytes[16] << 8) | bytes[17];
    const middle = Math.floor(bytes.length / pageSize / 2) * pageSize;
    bytes.fill(0x5a, middle, middle + 3 * pageSize);
    await Deno.writeFile(path, bytes);
    await assertRefused(path, /damaged or not a Wattcast database/);
  });
});

Deno.test("sqlite broker: another program's SQLite database is refused and left unchanged", async () => {
  await withFile(async (path) => {
    const db = new DatabaseSync(path);
    db.exec("PRAGMA application_id = 42; CREATE TABLE notes (body TEXT)");
    db.close();
    await assertRefused(path, /another program.*application_id is 42/);
  });
  await withFile(async (path) => {
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')");
    db.close();
    await assertRefused(path, /another program.*tables \(notes\)/);
  });
});

Deno.test("sqlite broker: a database from a newer Wattcast is refused and left unchanged", async () => {
  await withFile(async (path) => {
    await writeDatabase(path);
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    await assertRefused(path, /newer Wattcast \(schema version 99/);
  });
});

Deno.test("sqlite broker: a second open of a file in use fails until the first closes", async () => {
  await withFile(async (path) => {
    const first = open(path);
    await createTask(first, { meter_id: "held" });
    assert.equal(
      openError(path).message,
      `The database ${path} is in use by another Wattcast process. Stop it, or set DATA_DIR to another directory.`,
    );
    assert.equal(await exists(`${path}-shm`), false, "no -shm left by the refused open");
    assert.ok(await first.getTask((await first.claimJob("w", 1000))!.job.task_id), "first works");
    await first.close();

    const second = open(path);
    try {
      const held = sampleTask({ meter_id: "held" });
      const result = await second.createTask(held, jobOf(held));
      assert.equal(result.created, false, "the first broker's task is there");
    } finally {
      await second.close();
    }
  });
});

Deno.test("sqlite broker: a closed broker rejects calls with a plain message", async () => {
  await withFile(async (path) => {
    const broker = open(path);
    await broker.close();
    await assert.rejects(broker.ping(), /closed; open it again/);
  });
});

Deno.test("sqlite broker: a reader of every task's events learns of trimmed and expired ones, across a reopen", async () => {
  await withFile(async (path) => {
    let clock = Date.now();
    let broker = open(path, { maxEventsPerTask: 3, taskTtlSeconds: 1, now: () => clock });
    let event = await createTask(broker, { meter_id: "long" });
    const start = "0-0";
    for (let p = 1; p <= 4; p++) {
      const result = await broker.commitTask({ ...event.task, progress: p }, event.id);
      assert.ok(result.committed);
      event = result.event;
    }
    let page = await broker.readAllEvents(start, 10);
    assert.equal(page.gap, true, "the task's two oldest events were trimmed");
    assert.deepEqual(page.events.map((e) => e.task.progress), [2, 3, 4]);
    assert.equal((await broker.readAllEvents(page.events[0].seq!, 10)).gap, false);

    const other = await createTask(broker, { meter_id: "short" });
    const done = await broker.commitTask({ ...other.task, status: "SUCCESS" }, other.id);
    assert.ok(done.committed);
    const beforeDone = page.events.at(-1)!.seq!;
    assert.equal((await broker.readAllEvents(beforeDone, 10)).gap, false);
    await broker.close();

    clock += 5_000; // the finished task expires, and is purged when the file opens
    broker = open(path, { maxEventsPerTask: 3, taskTtlSeconds: 1, now: () => clock });
    try {
      page = await broker.readAllEvents(beforeDone, 10);
      assert.equal(page.gap, true, "the expired task's events are gone");
      assert.deepEqual(page.events, []);
      assert.equal(page.head, done.event.id, "the head is where the log was");
    } finally {
      await broker.close();
    }
  });
});

Deno.test("sqlite: a file written before site calendars existed opens, keeps its weather, and stores calendars", async () => {
  await withFile(async (path) => {
    const before = open(path);
    await before.weather.mergeTemperatures("bedford", {
      timestamps: [0, 3_600_000],
      values: [1, 2],
    });
    await before.close();
    // The file as an earlier version left it: no calendar table.
    const db = new DatabaseSync(path);
    db.exec("DROP TABLE site_calendars");
    db.close();
    const broker = open(path);
    try {
      assert.equal(await broker.weather.countTemperatures("bedford"), 2, "its weather is kept");
      assert.equal(await broker.weather.getCalendar("bedford"), null);
      const calendar = { public_holidays: "england-and-wales" as const, closures: ["2020-01-02"] };
      await broker.weather.setCalendar("bedford", calendar);
      assert.deepEqual(await broker.weather.getCalendar("bedford"), calendar);
    } finally {
      await broker.close();
    }
  });
});
