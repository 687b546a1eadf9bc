// The parser ships no types: it returns prom2json's shape, which test/metrics/prometheus-text.ts parses with zod.
declare module "parse-prometheus-text-format" {
  export default function parsePrometheusTextFormat(text: string): unknown;
}
