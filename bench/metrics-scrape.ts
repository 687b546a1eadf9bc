// The `GET /metrics` row (docs/metrics.md): scrapes of the main mesh after the other rows have left
// their tasks in it, one at a time, timed from the request to the last byte of the answer.
import type { Mesh } from "../test/integration/mesh-harness.ts";
import { parseScrape, samplesOf } from "../test/metrics/prometheus-text.ts";
import { percentile } from "./bench-stats.ts";
import { fmt, type Row } from "./bench-table.ts";

/** A scrape asks five rooms once each: it should cost a few internal requests, whatever the history. */
export const METRICS_SCRAPE_P50_MS = 20;

export type ScrapeTimes = { samples: number[]; tasks: number; bytes: number };

export async function scrapeTimes(mesh: Mesh, count: number): Promise<ScrapeTimes> {
  const scrape = async (): Promise<string> => {
    const response = await fetch(`${mesh.url}/metrics`, {
      headers: { authorization: `Bearer ${mesh.orchestratorToken}` },
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET /metrics → ${response.status}: ${text.slice(0, 200)}`);
    return text;
  };
  // Untimed: the first scrape wakes rooms the other rows left idle.
  const first = await scrape();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const startedAt = performance.now();
    await scrape();
    samples.push(performance.now() - startedAt);
  }
  const tasks = samplesOf(parseScrape(first), "agent_mesh_tasks").reduce((sum, sample) => sum + sample.value, 0);
  return { samples, tasks, bytes: first.length };
}

export function metricsRow(result: ScrapeTimes): Row {
  const p50 = percentile(result.samples, 50);
  return {
    name: `\`GET /metrics\` scrape, ${fmt(result.tasks)} tasks in the mesh (${result.samples.length} scrapes, ${fmt(result.bytes)} bytes each)`,
    figure: `p50 ${fmt(p50, 1)} ms (p99 ${fmt(percentile(result.samples, 99), 1)} ms)`,
    goal: `p50 ≤ ${METRICS_SCRAPE_P50_MS} ms`,
    checks: [{ value: p50, goal: METRICS_SCRAPE_P50_MS, direction: "at-most" }],
  };
}
