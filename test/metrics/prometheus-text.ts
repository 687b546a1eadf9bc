import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { z } from "zod";

// A scrape as a maintained parser of the Prometheus text format reads it (parse-prometheus-text-format,
// a port of the Prometheus Python client's parser giving prom2json's shape), checked with zod.

const Labels = z.record(z.string(), z.string());

const Family = z.object({
  name: z.string(),
  help: z.string(),
  type: z.enum(["COUNTER", "GAUGE", "HISTOGRAM", "SUMMARY", "UNTYPED"]),
  metrics: z.array(
    z.object({
      labels: Labels.optional(),
      value: z.string().optional(),
      buckets: z.record(z.string(), z.string()).optional(),
      sum: z.string().optional(),
      count: z.string().optional(),
    }),
  ),
});
export type ParsedFamily = z.infer<typeof Family>;

/** Every family of a scrape, by name. Throws if the parser fails or its output is not prom2json's shape. */
export function parseScrape(text: string): Map<string, ParsedFamily> {
  const families = z.array(Family).parse(parsePrometheusTextFormat(text));
  return new Map(families.map((family) => [family.name, family]));
}

/** The value of a counter or gauge sample whose labels are exactly `labels` (undefined: no such sample). */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const metric = families
    .get(name)
    ?.metrics.find((m) => JSON.stringify(Object.entries(m.labels ?? {}).sort()) === wanted);
  return metric?.value === undefined ? undefined : Number(metric.value);
}

/** Every sample of a family, as labels and value. */
export function samplesOf(
  families: Map<string, ParsedFamily>,
  name: string,
): { labels: Record<string, string>; value: number }[] {
  return (families.get(name)?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
}
