import { describe, expect, it } from "vitest";
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  isLabelName,
  isMetricName,
  type MetricFamily,
  renderExposition,
} from "../../party/metrics/exposition.ts";
import { meshFamilies } from "../../party/metrics/mesh-metrics.ts";
import { emptyHistogram, observe } from "../../party/metrics/registry-metrics.ts";
import { parseScrape, sampleValue } from "../metrics/prometheus-text.ts";

describe("the Prometheus text renderer", () => {
  it("writes HELP and TYPE before each family's samples and ends with a line feed", () => {
    const text = renderExposition([
      { name: "a_total", help: "As.", type: "counter", samples: [{ labels: { tier: "opus" }, value: 2 }] },
      { name: "b", help: "Bs.", type: "gauge", samples: [{ value: 0.5 }] },
    ]);
    expect(text).toBe(
      '# HELP a_total As.\n# TYPE a_total counter\na_total{tier="opus"} 2\n# HELP b Bs.\n# TYPE b gauge\nb 0.5\n',
    );
    expect(renderExposition([])).toBe("");
  });

  it("escapes backslash, double quote and line feed in label values, and a parser reads them back as they were", () => {
    const awkward = 'C:\\DIR\\"FILE"\nnext line ünïcode';
    expect(escapeLabelValue(awkward)).toBe('C:\\\\DIR\\\\\\"FILE\\"\\nnext line ünïcode');
    const text = renderExposition([
      { name: "x", help: "a \\ help\non two lines", type: "gauge", samples: [{ labels: { path: awkward }, value: 1 }] },
    ]);
    const parsed = parseScrape(text);
    expect(parsed.get("x")?.metrics[0]?.labels?.path).toBe(awkward);
    expect(parsed.get("x")?.help).toBe("a \\ help\non two lines");
    expect(escapeHelp('say "hi"\\')).toBe('say "hi"\\\\');
  });

  it("writes histogram buckets cumulatively, ending at le=+Inf equal to _count", () => {
    const family: MetricFamily = {
      name: "wait_seconds",
      help: "Waits.",
      type: "histogram",
      histograms: [{ bounds: [0.1, 1, 10], counts: [1, 0, 2, 1], sum: 25.5 }],
    };
    const text = renderExposition([family]);
    expect(text).toContain(
      'wait_seconds_bucket{le="0.1"} 1\nwait_seconds_bucket{le="1"} 1\nwait_seconds_bucket{le="10"} 3\nwait_seconds_bucket{le="+Inf"} 4\nwait_seconds_sum 25.5\nwait_seconds_count 4\n',
    );
    const parsed = parseScrape(text).get("wait_seconds")?.metrics[0];
    expect(parsed?.buckets).toEqual({ "0.1": "1", "1": "1", "10": "3", "+Inf": "4" });
    expect(parsed?.count).toBe("4");
  });

  it("spells infinities and NaN as the format does", () => {
    expect([Infinity, -Infinity, NaN, 0, 1e-7, 12.5].map(formatValue)).toEqual([
      "+Inf",
      "-Inf",
      "NaN",
      "0",
      "1e-7",
      "12.5",
    ]);
  });

  it("puts each observation in the first bucket whose bound it does not pass", () => {
    const histogram = observe(emptyHistogram([0.1, 1]), [0.1, 0.2, 1, 5, 0]);
    expect(histogram.counts).toEqual([2, 2, 1]);
    expect(histogram.count).toBe(5);
    expect(histogram.sum).toBeCloseTo(6.3);
  });
});

describe("the mesh's series", () => {
  const readings = {
    directory: { tasks: { running: 2, succeeded: 1 } },
    registry: {
      queue: { sonnet: 3 },
      agents: { online: 1, lost: 1 },
      slots: { busy: 1, idle: 1 },
      dispatch: observe(emptyHistogram(), [0.002, 40]),
    },
    budget: { attempts: { sonnet: { succeeded: 1, test_fail: 2 } }, spend_usd: { sonnet: 0.25 }, today_usd: 0.25 },
    webhookFailures: 4,
    traces: { endpoint: null, queued: 0, queue_cap: 2048, exported_total: 5, dropped_total: 3 },
  };

  it("use valid names, name every status, tier and state, and parse", () => {
    const families = meshFamilies(readings);
    for (const family of families) {
      expect(isMetricName(family.name), family.name).toBe(true);
      const samples = family.type === "histogram" ? family.histograms : family.samples;
      for (const sample of samples)
        for (const label of Object.keys(sample.labels ?? {})) expect(isLabelName(label), label).toBe(true);
    }
    const parsed = parseScrape(renderExposition(families));
    expect(sampleValue(parsed, "agent_mesh_tasks", { status: "running" })).toBe(2);
    expect(sampleValue(parsed, "agent_mesh_tasks", { status: "awaiting_human" })).toBe(0);
    expect(sampleValue(parsed, "agent_mesh_queue_depth", { tier: "opus" })).toBe(0);
    expect(sampleValue(parsed, "agent_mesh_agents", { state: "revoked" })).toBe(0);
    expect(sampleValue(parsed, "agent_mesh_attempts_total", { tier: "sonnet", class: "test_fail" })).toBe(2);
    expect(sampleValue(parsed, "agent_mesh_webhook_failures_total")).toBe(4);
    expect(sampleValue(parsed, "agent_mesh_spans_dropped_total")).toBe(3);
    expect(sampleValue(parsed, "agent_mesh_spans_exported_total")).toBe(5);
    expect(parsed.get("agent_mesh_dispatch_seconds")?.metrics[0]?.buckets?.["0.005"]).toBe("1");
    expect(parsed.get("agent_mesh_dispatch_seconds")?.metrics[0]?.count).toBe("2");
    expect(parsed.get("agent_mesh_attempts_total")?.type).toBe("COUNTER");
  });

  it("leave out the series of a room that did not answer, and say so", () => {
    const parsed = parseScrape(renderExposition(meshFamilies({ ...readings, registry: null })));
    expect(parsed.has("agent_mesh_queue_depth")).toBe(false);
    expect(parsed.has("agent_mesh_dispatch_seconds")).toBe(false);
    expect(sampleValue(parsed, "agent_mesh_metrics_room_up", { room: "registry" })).toBe(0);
    expect(sampleValue(parsed, "agent_mesh_metrics_room_up", { room: "directory" })).toBe(1);
  });
});
