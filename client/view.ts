/**
 * What the client shows while tasks run: a live progress bar per task on a
 * terminal (status, message, ETA, loss, with `cli-progress`); one plain line
 * per status change without one (CI logs); or, with `--json`, every event
 * as one line of JSON.
 *
 * @module
 */
import process from "node:process";
import cliProgress from "cli-progress";
import type { Task } from "../src/domain/task.ts";
import type { StreamEvent } from "./follow.ts";
import { endingLine } from "./outcome.ts";

/** Shows a run. */
export interface View {
  /** Shows one event of the stream. */
  event(event: StreamEvent): void;
  /** Shows how each task ended, after the last event. */
  end(finals: readonly Task[]): void;
  /** Leaves the terminal tidy (on Ctrl-C or an error). */
  stop(): void;
}

/** How the view shows a run. */
export type ViewMode = "bar" | "lines" | "json";

/** Time left until `estimated_completion`, as `1m 05s`; empty when unknown or past. */
export function etaText(task: Task, now = Date.now()): string {
  if (!task.estimated_completion) return "";
  const left = Math.round((Date.parse(task.estimated_completion) - now) / 1000);
  if (!Number.isFinite(left) || left < 0) return "";
  return left >= 60
    ? `${Math.floor(left / 60)}m ${String(left % 60).padStart(2, "0")}s`
    : `${left}s`;
}

/** The latest training loss, as `0.1234`; empty before the first epoch. */
export function lossText(task: Task): string {
  const loss = task.metrics?.loss;
  return typeof loss === "number" ? loss.toPrecision(4) : "";
}

/** One plain line for a task's status. */
export function statusLine(task: Task, now = Date.now()): string {
  const eta = etaText(task, now);
  const loss = lossText(task);
  const epoch = task.metrics ? ` epoch ${task.metrics.epoch}/${task.metrics.epochs}` : "";
  return `${
    task.updated_at.slice(11, 19)
  } ${task.meter_type}/${task.meter_id} ${task.status} ${task.progress}%${epoch}${
    loss ? ` loss ${loss}` : ""
  }${eta ? ` ETA ${eta}` : ""}: ${task.message}`;
}

/** A view in `mode`, writing lines with `write`. */
export function createView(mode: ViewMode, write: (line: string) => void): View {
  if (mode === "json") return jsonView(write);
  if (mode === "lines") return linesView(write);
  return barView(write);
}

function jsonView(write: (line: string) => void): View {
  return {
    event(event) {
      write(JSON.stringify(event.kind === "status" ? event.task : event.data));
    },
    end() {},
    stop() {},
  };
}

function linesView(write: (line: string) => void): View {
  const last = new Map<string, string>();
  return {
    event(event) {
      if (event.kind === "error") {
        write(`stream error: ${String(event.data.error ?? "")}; resuming`);
        return;
      }
      if (event.kind !== "status") return;
      const task = event.task;
      if (last.get(task.task_id) === task.status) return;
      last.set(task.task_id, task.status);
      write(statusLine(task, event.receivedAt));
    },
    end(finals) {
      for (const task of finals) write(endingLine(task));
    },
    stop() {},
  };
}

function barView(write: (line: string) => void): View {
  const bars = new cliProgress.MultiBar({
    format: "{label} |{bar}| {percentage}% {status}{epoch}{loss}{eta} {message}",
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    barsize: 24,
    stream: process.stdout,
    forceRedraw: true,
  }, cliProgress.Presets.shades_classic);
  const byTask = new Map<string, cliProgress.SingleBar>();
  let stopped = false;
  const payload = (task: Task, now: number) => {
    const eta = etaText(task, now);
    const loss = lossText(task);
    return {
      label: `${task.meter_type}/${task.meter_id}`,
      status: task.status,
      epoch: task.metrics ? ` ${task.metrics.epoch}/${task.metrics.epochs}` : "",
      loss: loss ? ` loss ${loss}` : "",
      eta: eta ? ` ETA ${eta}` : "",
      message: task.message.slice(0, 60),
    };
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    bars.stop();
  };
  return {
    event(event) {
      if (event.kind !== "status") return;
      const task = event.task;
      const bar = byTask.get(task.task_id);
      if (bar) bar.update(task.progress, payload(task, event.receivedAt));
      else {byTask.set(
          task.task_id,
          bars.create(100, task.progress, payload(task, event.receivedAt)),
        );}
    },
    end(finals) {
      stop();
      for (const task of finals) write(endingLine(task));
    },
    stop,
  };
}
