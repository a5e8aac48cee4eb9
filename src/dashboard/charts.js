// Charts drawn with uPlot (served by the app, loaded before this module runs).

const charts = new Set();

/** Width for a chart in `container`, fitting a phone screen. */
function widthOf(container) {
  return Math.max(200, Math.floor(container.clientWidth || 300));
}

addEventListener("resize", () => {
  for (const entry of charts) {
    const { plot, container } = entry;
    if (container.isConnected) plot.setSize({ width: widthOf(container), height: plot.height });
    else charts.delete(entry);
  }
});

function make(options, data, container) {
  const plot = new globalThis.uPlot({ width: widthOf(container), ...options }, data, container);
  charts.add({ plot, container });
  return plot;
}

/** A loss curve, one point per epoch; returns `update(points)` for new epochs. */
export function lossChart(container) {
  let plot = null;
  return (points) => {
    const data = [
      points.map((p) => p.epoch),
      points.map((p) => p.loss),
      points.map((p) => p.val_loss),
    ];
    if (!plot) {
      plot = make(
        {
          title: "Loss per epoch",
          height: 160,
          legend: { live: false },
          scales: { x: { time: false } },
          axes: [{ label: "epoch" }, { size: 50 }],
          series: [
            { label: "epoch" },
            { label: "loss", stroke: "#0b5cad", width: 2 },
            { label: "val loss", stroke: "#d97706", width: 2, dash: [6, 3] },
          ],
        },
        data,
        container,
      );
    } else {
      plot.setData(data);
    }
  };
}

/** The colour of the forecast's 10–90% band (the forecast line's, faint). */
export const BAND_FILL = "rgba(180, 35, 24, 0.18)";

/**
 * The latest readings and the forecast after them, on one time axis. With
 * `band` (the forecast has intervals), each forecast point's `low` and
 * `high` are two more series with the area between them shaded. The
 * container says what was drawn: `data-series` (series, the x axis
 * excluded) and `data-band-points` (forecast hours with a band).
 */
export function readingsChart(container, readings, forecast, band = false) {
  container.replaceChildren();
  const xs = [], actual = [], ahead = [], low = [], high = [];
  for (const point of readings) {
    xs.push(Date.parse(point.timestamp) / 1000);
    actual.push(point.value);
    ahead.push(null);
    low.push(null);
    high.push(null);
  }
  // The forecast starts at the last reading, so the two lines join.
  if (forecast.length && xs.length) ahead[ahead.length - 1] = actual[actual.length - 1];
  for (const point of forecast) {
    xs.push(Date.parse(point.timestamp) / 1000);
    actual.push(null);
    ahead.push(point.value);
    low.push(band ? point.low ?? null : null);
    high.push(band ? point.high ?? null : null);
  }
  const series = [
    {},
    { label: "readings", stroke: "#0b5cad", width: 1.5 },
    { label: "forecast", stroke: "#b42318", width: 2 },
  ];
  const data = [xs, actual, ahead];
  if (band) {
    const edge = { stroke: "rgba(180, 35, 24, 0.45)", width: 1, dash: [3, 3] };
    series.push({ label: "10% (low)", ...edge }, { label: "90% (high)", ...edge });
    data.push(low, high);
  }
  const plot = make(
    {
      height: 260,
      series,
      // uPlot shades between the two series named, upper first.
      bands: band ? [{ series: [4, 3], fill: BAND_FILL }] : [],
    },
    data,
    container,
  );
  container.dataset.series = String(plot.series.length - 1);
  container.dataset.bandPoints = String(
    band ? plot.data[3].filter((v, i) => v !== null && plot.data[4][i] !== null).length : 0,
  );
  return plot;
}
