// The Prometheus text exposition format, version 0.0.4 (docs/metrics.md): metric families in,
// text out. No dependencies and no state: the edge builds the families and renders them once.

/** The content type Prometheus negotiates for this format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

/** One value of a counter or gauge. */
export type Sample = { labels?: Labels; value: number };

/** One histogram: `counts[i]` observations in bucket i alone (≤ bounds[i]), the last entry past every bound. */
export type HistogramSample = { labels?: Labels; bounds: readonly number[]; counts: readonly number[]; sum: number };

export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; samples: readonly Sample[] }
  | { name: string; help: string; type: "histogram"; histograms: readonly HistogramSample[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether a metric name is valid in the format. */
export const isMetricName = (name: string): boolean => METRIC_NAME.test(name);
/** Whether a label name is valid (names starting with `__` are Prometheus' own). */
export const isLabelName = (name: string): boolean => LABEL_NAME.test(name) && !name.startsWith("__");

/** A sample value: Go's float syntax, with the format's spellings of infinity and NaN. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** A label value: backslash, double quote and line feed are escaped; everything else is UTF-8 as is. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A HELP text: backslash and line feed are escaped (a quote is not). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(labels: Labels | undefined, extra?: readonly [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra !== undefined) pairs.push([extra[0], extra[1]]);
  return pairs.length === 0
    ? ""
    : `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

/**
 * A histogram's lines: cumulative `_bucket`s ending at `le="+Inf"`, then `_sum` and `_count` (equal to the +Inf
 * bucket).
 */
function histogramLines(name: string, histogram: HistogramSample): string[] {
  const lines: string[] = [];
  let cumulative = 0;
  histogram.bounds.forEach((bound, i) => {
    cumulative += histogram.counts[i] ?? 0;
    lines.push(`${name}_bucket${labelText(histogram.labels, ["le", formatValue(bound)])} ${formatValue(cumulative)}`);
  });
  for (let i = histogram.bounds.length; i < histogram.counts.length; i++) cumulative += histogram.counts[i] ?? 0;
  lines.push(`${name}_bucket${labelText(histogram.labels, ["le", "+Inf"])} ${formatValue(cumulative)}`);
  lines.push(`${name}_sum${labelText(histogram.labels)} ${formatValue(histogram.sum)}`);
  lines.push(`${name}_count${labelText(histogram.labels)} ${formatValue(cumulative)}`);
  return lines;
}

/**
 * The families as the format's text: `# HELP` and `# TYPE` before each family's samples, a line feed after the last
 * line.
 */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram")
      for (const histogram of family.histograms) lines.push(...histogramLines(family.name, histogram));
    else
      for (const sample of family.samples)
        lines.push(`${family.name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
