// The task cards: status, progress, message, ETA, loss curve, result or error, cancel.
import { el, send, showError } from "./api.js";
import { lossChart } from "./charts.js";

const FINAL = new Set(["SUCCESS", "FAILURE", "CANCELLED"]);
const cards = new Map();
let list, empty, onShowMeter;

/** Where cards go, and what "Readings and forecast" on a trained task does. */
export function setUpTasks(options) {
  ({ list, empty, onShowMeter } = options);
}

/** True once a task has ended. */
export function isFinal(task) {
  return FINAL.has(task.status);
}

/**
 * Shows a task's state. `live` marks a status event from the stream: it is
 * added to the card's event list as received (a repeat would show twice).
 */
export function showTask(task, live = false) {
  let card = cards.get(task.task_id);
  if (!card) {
    card = createCard(task);
    cards.set(task.task_id, card);
    const newer = [...list.children].find((node) => node.dataset.created < task.created_at);
    list.insertBefore(card.node, newer ?? null);
    empty.hidden = true;
  }
  if (live) {
    card.seen.append(el("li", {}, `${task.status} ${task.progress}% ${task.message}`));
    card.seenCount.textContent = String(card.seen.children.length);
  }
  const metrics = task.metrics;
  if (metrics?.loss !== null && metrics?.loss !== undefined && task.status === "TRAINING_MODEL") {
    card.points.set(metrics.epoch, metrics);
    card.drawLoss([...card.points.values()].sort((a, b) => a.epoch - b.epoch));
  }
  // A listing read before a live event must not undo it.
  if (card.task && Date.parse(task.updated_at) < Date.parse(card.task.updated_at)) return;
  card.task = task;
  render(card);
}

function createCard(task) {
  const parts = {
    status: el("span", { class: "status" }),
    progress: el("progress", { max: 100, "aria-label": `Progress of ${task.meter_id}` }),
    percent: el("span", { class: "progress-value" }),
    message: el("p", { class: "message" }),
    eta: el("p", { class: "eta" }),
    loss: el("div", { class: "loss" }),
    outcome: el("div", { class: "outcome" }),
    actions: el("div", { class: "actions" }),
  };
  const seen = el("ol", { class: "events" });
  const seenCount = el("span", {}, "0");
  const node = el(
    "li",
    { class: "task", "data-task-id": task.task_id, "data-created": task.created_at },
    el(
      "header",
      {},
      el("h3", {}, `${task.meter_type} / ${task.meter_id}`),
      parts.status,
    ),
    el("div", { class: "bar" }, parts.progress, parts.percent),
    parts.message,
    parts.eta,
    el(
      "p",
      { class: "meta" },
      `Task ${task.task_id.slice(0, 8)}…, started `,
      time(task.created_at),
    ),
    parts.loss,
    parts.outcome,
    parts.actions,
    el("details", {}, el("summary", {}, "Events received (", seenCount, ")"), seen),
  );
  return { node, parts, seen, seenCount, points: new Map(), drawLoss: lossChart(parts.loss) };
}

function time(iso) {
  return el("time", { datetime: iso }, new Date(iso).toLocaleTimeString());
}

function render(card) {
  const { task, parts, node } = card;
  node.dataset.status = task.status;
  parts.status.textContent = task.status;
  parts.progress.value = task.progress;
  parts.percent.textContent = `${task.progress}%`;
  parts.message.textContent = task.message;
  parts.eta.replaceChildren();
  if (task.estimated_completion && !isFinal(task)) {
    const seconds = Math.max(
      0,
      Math.round((Date.parse(task.estimated_completion) - Date.now()) / 1000),
    );
    parts.eta.append("ETA ", time(task.estimated_completion), ` (about ${seconds} s)`);
  }
  if (task.attempt > 1) parts.eta.append(` · attempt ${task.attempt}`);
  parts.outcome.replaceChildren(...outcome(task));
  parts.actions.replaceChildren();
  if (!isFinal(task)) {
    parts.actions.append(el("button", {
      type: "button",
      class: "danger",
      onclick: (event) => cancel(task, event.currentTarget, parts.outcome),
    }, "Cancel"));
  } else if (task.status === "SUCCESS") {
    parts.actions.append(el("button", {
      type: "button",
      class: "secondary",
      onclick: () => onShowMeter(task),
    }, "Readings and forecast"));
  }
}

async function cancel(task, button, target) {
  button.disabled = true;
  try {
    showTask(await send("DELETE", `/trainmodel/${task.task_id}`));
  } catch (error) {
    showError(target, error);
    button.disabled = false;
  }
}

const pct = (x) => (typeof x === "number" && isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");
const num = (x) => (typeof x === "number" && isFinite(x) ? x.toPrecision(3) : "–");

function outcome(task) {
  if (task.status === "FAILURE") {
    const d = task.error_details;
    return [el(
      "div",
      { class: "error" },
      el("p", {}, task.error ?? "The task failed."),
      d ? el("p", {}, `${d.code} at ${d.stage}: ${d.hint}`) : null,
    )];
  }
  if (task.status !== "SUCCESS" || !task.result) return [];
  const details = task.result.details;
  const evaluation = details.metrics ?? task.metrics?.evaluation;
  const facts = [
    ["Data points", details.data_points],
    ["Epochs", details.epochs],
    ["Final loss", num(details.final_loss)],
    ["Training time", `${details.training_time_seconds} s`],
    ["Forecasts use", details.served ?? evaluation?.served],
  ].filter(([, value]) => value !== undefined);
  const result = el(
    "div",
    { class: "result" },
    el("dl", {}, ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))])),
  );
  if (evaluation?.model) result.append(accuracyTable(evaluation));
  return [result];
}

function accuracyTable(evaluation) {
  const rows = [
    ["model", "Model"],
    ["ridge", "Linear path"],
    ["persistence_ensemble", "Persistence ensemble"],
    ["previous_day", "Previous day"],
    ["previous_week", "Previous week"],
  ].filter(([key]) => evaluation[key]);
  return el(
    "table",
    { class: "accuracy" },
    el("caption", {}, "Accuracy on the holdout (lower is better)"),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ...["Forecaster", "CV(RMSE)", "NMBE", "MAE"].map((h) => el("th", { scope: "col" }, h)),
      ),
    ),
    el(
      "tbody",
      {},
      ...rows.map(([key, label]) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, label),
          el("td", {}, pct(evaluation[key].cv_rmse)),
          el("td", {}, pct(evaluation[key].nmbe)),
          el("td", {}, num(evaluation[key].mae)),
        )
      ),
    ),
  );
}
