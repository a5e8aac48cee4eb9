// The dashboard's entry: lists, the training and upload forms, the live stream.
import { api, credential, el, send, setCredential, showError, showSuccess } from "./api.js";
import { readingsChart } from "./charts.js";
import { openLive } from "./live.js";
import { isFinal, setUpTasks, showTask } from "./tasks.js";

const $ = (id) => document.getElementById(id);
const trainForm = $("train-form");
const uploadForm = $("upload-form");

setUpTasks({ list: $("tasks"), empty: $("tasks-empty"), onShowMeter: showMeter });

async function loadTasks() {
  try {
    const page = await api("/trainmodel/tasks?limit=50");
    for (const task of page.tasks) showTask(task);
  } catch (error) {
    showError($("tasks-empty"), error);
    $("tasks-empty").hidden = false;
  }
}

async function loadMeters() {
  const body = $("meters");
  try {
    const page = await api("/meters?limit=200");
    body.replaceChildren(...page.meters.map(meterRow));
    $("meters-empty").hidden = page.meters.length > 0;
  } catch (error) {
    showError($("meters-empty"), error);
    $("meters-empty").hidden = false;
  }
}

function meterRow(meter) {
  const name = `${meter.meter_type} meter ${meter.meter_id}`;
  return el(
    "tr",
    { "data-meter": `${meter.meter_type}/${meter.meter_id}` },
    el("td", {}, meter.meter_id),
    el("td", {}, meter.meter_type),
    el("td", {}, meter.readings_count.toLocaleString()),
    el(
      "td",
      {},
      meter.model
        ? el(
          "span",
          {},
          "trained ",
          el(
            "time",
            { datetime: meter.model.trained_at },
            new Date(meter.model.trained_at).toLocaleString(),
          ),
        )
        : "not trained",
    ),
    el(
      "td",
      {},
      el("button", {
        type: "button",
        class: "secondary",
        "aria-label": `Train ${name}`,
        onclick: () => fill(trainForm, meter),
      }, "Train"),
      " ",
      meter.model
        ? el("button", {
          type: "button",
          class: "secondary",
          "aria-label": `Readings and forecast of ${name}`,
          onclick: () => showMeter(meter),
        }, "Chart")
        : null,
    ),
  );
}

/** Puts a meter in a form and moves the focus to its button. */
function fill(form, meter) {
  form.elements.meter_id.value = meter.meter_id;
  form.elements.meter_type.value = meter.meter_type;
  form.querySelector("button[type=submit]").focus();
}

async function showMeter(meter) {
  const panel = $("chart-panel"), note = $("chart-message");
  const path = `${meter.meter_type}/${meter.meter_id}`;
  panel.hidden = false;
  $("chart-title").textContent = `Readings and forecast: ${meter.meter_type} / ${meter.meter_id}`;
  note.textContent = "Loading…";
  panel.scrollIntoView({ block: "nearest" });
  const [readings, forecast] = await Promise.allSettled([
    api(`/meters/${path}/readings?hours=168`),
    api(`/forecast/${path}?horizon=24`),
  ]);
  if (readings.status === "rejected") {
    $("meter-chart").replaceChildren();
    return showError(note, readings.reason);
  }
  const answer = forecast.status === "fulfilled" ? forecast.value : null;
  const points = answer?.points ?? [];
  const band = Boolean(answer?.intervals?.quantiles);
  readingsChart($("meter-chart"), readings.value.points, points, band);
  note.textContent = `The last ${readings.value.points.length} hourly readings` +
    (points.length ? ` and a ${points.length}-hour forecast (${answer.model.served}).` : ".");
  $("forecast-facts").replaceChildren(...(answer ? forecastFacts(answer, band) : []));
  if (forecast.status === "rejected") showError(note, forecast.reason);
}

const number = (value) =>
  value === undefined || value === null
    ? "–"
    : value.toLocaleString(undefined, { maximumFractionDigits: 2 });

/**
 * What the chart cannot say alone: the band's meaning, the inputs' quality,
 * the days forecast as non-working, every point as text.
 */
function forecastFacts(answer, band) {
  const { quantiles } = answer.intervals;
  const legend = band
    ? el(
      "p",
      { class: "band-legend", "data-band": "shown" },
      el("span", { class: "swatch", "aria-hidden": "true" }),
      `Shaded: the forecast's ${Math.round(quantiles.low * 100)}–${
        Math.round(quantiles.high * 100)
      }% range ` +
        `(each hour's low and high): about ${
          Math.round((quantiles.high - quantiles.low) * 10)
        } actual hours in 10 fall inside it. Calibrated on ${answer.intervals.calibrated_on}` +
        (answer.intervals.widened > 1
          ? `; ${answer.intervals.widened}× as wide, as part of the week before was estimated.`
          : "."),
    )
    : el(
      "p",
      { class: "band-legend", "data-band": "none" },
      `No range shown: ${answer.intervals.reason}`,
    );
  const { quality, hours_estimated: estimated, hours_needed: needed } = answer.inputs;
  const inputs = el(
    "p",
    { class: "quality", "data-quality": quality },
    `Inputs: ${quality}. ${estimated} of the ${needed} hours of history the model reads ` +
      (estimated === 1 ? "was" : "were") + " estimated" +
      (quality === "degraded" ? " (longer gaps filled from similar days)." : "."),
  );
  const days = answer.calendar?.non_working_days ?? [];
  const calendar = days.length
    ? el(
      "p",
      { class: "calendar", "data-days": days.join(" ") },
      `Forecast as non-working (site ${answer.calendar.site_id}'s calendar: a holiday or closure, ` +
        `like a weekend day): ${days.join(", ")}.`,
    )
    : null;
  const table = el(
    "details",
    { class: "forecast-table" },
    el("summary", {}, "The forecast as a table"),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        {},
        el("caption", { class: "sr-only" }, "Forecast per hour"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, "Hour"),
            el("th", { scope: "col" }, "Forecast"),
            band ? el("th", { scope: "col" }, "Low (10%)") : null,
            band ? el("th", { scope: "col" }, "High (90%)") : null,
          ),
        ),
        el(
          "tbody",
          {},
          ...answer.points.map((point) =>
            el(
              "tr",
              {},
              el(
                "th",
                { scope: "row" },
                el(
                  "time",
                  { datetime: point.timestamp },
                  new Date(point.timestamp).toLocaleString(),
                ),
              ),
              el("td", {}, number(point.value)),
              band ? el("td", {}, number(point.low)) : null,
              band ? el("td", {}, number(point.high)) : null,
            )
          ),
        ),
      ),
    ),
  );
  return [legend, inputs, calendar, table].filter(Boolean);
}

trainForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("train-message");
  const button = trainForm.querySelector("button[type=submit]");
  const form = new FormData(trainForm);
  const request = { meter_id: form.get("meter_id").trim(), meter_type: form.get("meter_type") };
  if (form.get("epochs")) request.epochs = Number(form.get("epochs"));
  button.disabled = true;
  try {
    const task = await send("POST", "/trainmodel/", request);
    showTask(task);
    showSuccess(message, `Started training ${task.meter_type} / ${task.meter_id}.`);
  } catch (error) {
    showError(message, error);
  } finally {
    button.disabled = false;
  }
});

uploadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("upload-message");
  const button = uploadForm.querySelector("button[type=submit]");
  const form = new FormData(uploadForm);
  const file = form.get("file");
  const path = `/meters/${encodeURIComponent(form.get("meter_type"))}/${
    encodeURIComponent(form.get("meter_id").trim())
  }/readings`;
  button.disabled = true;
  try {
    const stored = await api(path, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "text/csv" },
      body: file && file.size ? file : "",
    });
    showSuccess(
      message,
      `Stored ${stored.accepted} readings (${stored.added} new, ${stored.replaced} replaced); ` +
        `the meter now has ${stored.readings.count}, from ${stored.readings.first} to ${stored.readings.last}.`,
    );
    loadMeters();
  } catch (error) {
    showError(message, error);
  } finally {
    button.disabled = false;
  }
});

for (const button of document.querySelectorAll("[data-demo-meter]")) {
  button.addEventListener("click", () => fill(trainForm, JSON.parse(button.dataset.demoMeter)));
}

const live = openLive({
  onTask(task) {
    showTask(task, true);
    if (isFinal(task)) loadMeters();
  },
  onExpired() {
    loadTasks();
    loadMeters();
  },
  onState(state, label) {
    const node = $("connection");
    node.dataset.state = state;
    node.textContent = label;
  },
});
loadTasks();
loadMeters();

// With authentication on, the first 401 asks for an API key (or a JWT).
const keyForm = $("key-form");
addEventListener("wattcast:unauthorized", () => {
  keyForm.hidden = false;
  if (!credential()) keyForm.elements.credential.focus();
});
keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  setCredential(keyForm.elements.credential.value.trim() || null);
  keyForm.elements.credential.value = "";
  keyForm.hidden = true;
  live.reopen();
  loadTasks();
  loadMeters();
});
