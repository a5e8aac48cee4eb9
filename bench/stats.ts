/**
 * Small statistics and formatting helpers for the benchmarks.
 *
 * @module
 */

/** The `p`th percentile (0 to 100) of the values, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** The median of the values. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Formats a number with a fixed count of decimals. */
export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

/** Resident memory of a process in bytes (Linux). */
export function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1] ?? NaN);
  return kb * 1024;
}

/** CPU time a process has used so far, user and system, in seconds (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces), from field 3 on.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** One line describing this machine, for the report header. */
export function machineDescription(): string {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1] ??
    "unknown CPU";
  const gib = Deno.systemMemoryInfo().total / 2 ** 30;
  return `${navigator.hardwareConcurrency} cores (${cpu.trim()}), ${
    gib.toFixed(0)
  } GiB RAM, ${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno}`;
}
