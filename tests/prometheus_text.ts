/**
 * A strict parser of the Prometheus text exposition format (0.0.4) for
 * tests: every line is a `# HELP`, a `# TYPE`, a blank or a sample; every
 * sample belongs to a family whose `# TYPE` came first (histograms by their
 * `_bucket`, `_sum` and `_count` series, with an `le="+Inf"` bucket equal
 * to the count); label values are quoted with valid escapes; values are
 * floats. Throws naming the first bad line.
 *
 * @module
 */

/** One sample. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  /** Family name to its type. */
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name and these labels (at least); undefined when none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** The sum of every sample with this name whose labels include these. */
  sum(name: string, labels?: Record<string, string>): number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** A value as Prometheus reads it (Go's ParseFloat: `NaN` and `Inf` in any case). */
function parseValue(text: string, line: string): number {
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new Error(`not a number: ${JSON.stringify(text)} in ${JSON.stringify(line)}`);
  }
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    if (match[1] in labels) throw new Error(`label ${match[1]} twice in ${JSON.stringify(line)}`);
    labels[match[1]] = match[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    at = pattern.lastIndex;
  }
  return labels;
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count", "_total"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    if (types.has(base)) return base;
  }
  return undefined;
}

function matches(sample: Sample, name: string, labels: Record<string, string>): boolean {
  return sample.name === name &&
    Object.entries(labels).every(([k, v]) => sample.labels[k] === v);
}

/** Parses an exposition; throws on anything the format does not allow. */
export function parsePrometheusText(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!meta) continue; // a plain comment
      const [, kind, name, rest] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name in ${JSON.stringify(line)}`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`unknown type in ${JSON.stringify(line)}`);
        if (types.has(name)) throw new Error(`TYPE of ${name} twice`);
        types.set(name, rest);
      } else {
        if (helps.has(name)) throw new Error(`HELP of ${name} twice`);
        helps.add(name);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!sample) throw new Error(`not a sample: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = sample;
    if (familyOf(name, types) === undefined) {
      throw new Error(`sample ${name} has no # TYPE before it`);
    }
    samples.push({
      name,
      labels: parseLabels(labelText ?? "", line),
      value: parseValue(valueText, line),
    });
  }
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    for (const count of samples.filter((s) => s.name === `${family}_count`)) {
      const { le: _, ...own } = count.labels;
      const inf = samples.find((s) =>
        s.name === `${family}_bucket` && s.labels.le === "+Inf" &&
        Object.keys(s.labels).length === Object.keys(own).length + 1 &&
        matches(s, s.name, own)
      );
      if (!inf || inf.value !== count.value) {
        throw new Error(`${family}: the +Inf bucket does not equal the count`);
      }
    }
  }
  return {
    types,
    samples,
    value(name, labels = {}) {
      const found = samples.filter((s) => matches(s, name, labels));
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
      return found[0]?.value;
    },
    sum(name, labels = {}) {
      return samples.filter((s) => matches(s, name, labels)).reduce((n, s) => n + s.value, 0);
    },
  };
}
