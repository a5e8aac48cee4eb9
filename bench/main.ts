/**
 * `deno task bench`: runs the benchmarks and writes `BENCHMARKS.md` with the
 * machine and the date. Timings on a shared 2-core machine are noisy:
 * compare the ratios measured in one run.
 *
 * @module
 */
import { measureEventDelay } from "./event_delay.ts";
import { measureFanout } from "./fanout.ts";
import { measureRedisCommands } from "./redis_commands.ts";
import { fixed, machineDescription, median } from "./stats.ts";

const quick = Deno.args.includes("--quick");
const lines: string[] = [];
const out = (line = "") => {
  lines.push(line);
  console.log(line);
};

out("# Benchmarks");
out();
out(`Run ${new Date().toISOString()} on ${machineDescription()}.`);
out(
  `Written by \`deno task bench\`${
    quick ? " (--quick: smaller runs)" : ""
  }; the targets come from the issues.`,
);
out();

out("## Event delay: a worker's report to a client's receipt");
out();
out(
  "From the worker's report call (its tracker's compare-and-set, which publishes) to the event's",
);
out(
  "arrival at a client streaming over HTTP; Redis mode goes through the REST gateway and redis-server.",
);
out();
out("| mode | events | p50 ms | p99 ms | max ms | target |");
out("| --- | ---: | ---: | ---: | ---: | --- |");
for (const mode of ["embedded", "redis"] as const) {
  const r = await measureEventDelay(mode, quick ? 100 : 500);
  out(
    `| ${mode} | ${r.events} | ${fixed(r.p50, 2)} | ${fixed(r.p99, 2)} | ${fixed(r.max, 2)} | ${
      mode === "redis" ? `p99 < 15 ms: ${r.p99 < 15 ? "met" : "missed"}` : ""
    } |`,
  );
}
out();

const streams = quick ? 2000 : 10_000;
out(
  `## Fan-out: ${streams.toLocaleString("en")} concurrent streams of one task on one API process`,
);
out();
out(
  "Raw HTTP/1.1 clients in another process on the same machine; the API instance runs in Redis mode.",
);
out(
  "The same client then measures a minimal Hono `streamSSE` server (no broker, one frame written to",
);
out("every stream), as the floor that Deno and Hono set on this machine.");
out();
out(
  "| server | memory per stream | event reaches all streams, ms (median of 5) | p99 of receipts, ms (median) |",
);
out("| --- | ---: | ---: | ---: |");
const fanout = await measureFanout(streams, 5);
for (const r of fanout) {
  out(
    `| ${r.server} | ${fixed(r.bytesPerStream / 1024, 1)} KB | ${
      fixed(median(r.allReceivedMs), 0)
    } | ${fixed(median(r.p99Ms), 0)} |`,
  );
}
const [ours, floor] = fanout;
out();
out(
  `Targets: under 30 KB per stream (${
    ours.bytesPerStream < 30 * 1024 ? "met" : "missed"
  }) and an event reaching all ${ours.streams.toLocaleString("en")} within 300 ms (${
    median(ours.allReceivedMs) < 300 ? "met" : "missed"
  }). Wattcast's own cost above the floor: ${
    fixed((ours.bytesPerStream - floor.bytesPerStream) / 1024, 1)
  } KB per stream and ${
    fixed(median(ours.allReceivedMs) / median(floor.allReceivedMs), 2)
  }× the floor's fan-out time.`,
);
out(
  "Most of each stream's memory is Deno's own HTTP/1.1 connection (the floor server shows it); one HTTP",
);
out(
  "connection per EventSource is what browsers do, so lower figures need HTTP/2 in front (many streams per",
);
out("connection) or more API instances, which Redis mode allows.");
out();

out("## Redis commands (as Upstash bills them)");
out();
const commands = await measureRedisCommands(
  quick ? { idleSeconds: 20, taskEpochs: 10, taskBatchSize: 64 } : {},
);
out("| what | commands |");
out("| --- | ---: |");
out(`| idle API instance, per minute | ${fixed(commands.apiIdlePerMinute, 1)} |`);
out(`| idle worker, per minute | ${fixed(commands.workerIdlePerMinute, 1)} |`);
out(
  `| one task, ${
    fixed(commands.task.seconds, 0)
  } s, ${commands.task.epochs} epochs, ${commands.task.events} events, one client watching | ${commands.task.commands} |`,
);
out();
out(
  `An idle worker picked up a queued job in ${
    fixed(commands.pickupMs.p50, 0)
  } ms at the median and ${
    fixed(commands.pickupMs.max, 0)
  } ms at most (${commands.pickupMs.samples} jobs; target: within 100 ms), woken by pub/sub, not polling.`,
);
out(
  "An idle API instance holds no subscription until a client streams; an idle worker's commands are",
);
out(
  "its subscription's liveness pings and a look for abandoned jobs every third of the lease (at most 5 s).",
);
out();

const report = new URL("../BENCHMARKS.md", import.meta.url);
await Deno.writeTextFile(report, lines.join("\n"));
// Keep `deno task ok` clean: format the report as deno fmt would.
await new Deno.Command(Deno.execPath(), { args: ["fmt", report.pathname] }).output();
console.log("\nWrote BENCHMARKS.md");
