import { AgentState, ExecutorTier, TaskStatus, type TraceExportStatus } from "../../protocol/index.ts";
import type { BudgetMetrics, DirectoryMetrics, RegistryMetrics } from "../../protocol/metrics.ts";
import type { MetricFamily, Sample } from "./exposition.ts";

// The series of `GET /metrics` (docs/metrics.md), built from what each room reported for this scrape.
// A room that did not answer leaves its series out and says so in `agent_mesh_metrics_room_up`.

/** One scrape's readings: null for a room that did not answer. */
export type MeshReadings = {
  directory: DirectoryMetrics | null;
  registry: RegistryMetrics | null;
  budget: BudgetMetrics | null;
  /** Failed webhook requests since the outbox began. */
  webhookFailures: number | null;
  /** The trace exporter's counters (docs/traces.md). */
  traces: TraceExportStatus | null;
};

const samplesOf = <K extends string>(label: string, values: Partial<Record<K, number>>, keys: readonly K[]): Sample[] =>
  keys.map((key) => ({ labels: { [label]: key }, value: values[key] ?? 0 }));

function directoryFamilies(directory: DirectoryMetrics): MetricFamily[] {
  return [
    {
      name: "agent_mesh_tasks",
      type: "gauge",
      help: "Tasks by status, as the task list holds them.",
      samples: samplesOf("status", directory.tasks, TaskStatus.options),
    },
  ];
}

function registryFamilies(registry: RegistryMetrics): MetricFamily[] {
  const { dispatch } = registry;
  return [
    {
      name: "agent_mesh_queue_depth",
      type: "gauge",
      help: "Dispatch requests waiting for an agent, by the attempt's tier.",
      samples: samplesOf("tier", registry.queue, ExecutorTier.options),
    },
    {
      name: "agent_mesh_agents",
      type: "gauge",
      help: "Known agents by state (online, stale, lost, offline, revoked).",
      samples: samplesOf("state", registry.agents, AgentState.options),
    },
    {
      name: "agent_mesh_agent_slots",
      type: "gauge",
      help: "Attempt slots of online agents: busy (holding an attempt) or idle.",
      samples: samplesOf("state", registry.slots, ["busy", "idle"] as const),
    },
    {
      name: "agent_mesh_dispatch_seconds",
      type: "histogram",
      help: "Seconds from an attempt's dispatch request to its hand-out to an agent.",
      histograms: [{ bounds: dispatch.bounds, counts: dispatch.counts, sum: dispatch.sum }],
    },
  ];
}

function budgetFamilies(budget: BudgetMetrics): MetricFamily[] {
  const attempts = Object.entries(budget.attempts).flatMap(([tier, classes]) =>
    Object.entries(classes ?? {}).map(([klass, value]) => ({ labels: { tier, class: klass }, value: value ?? 0 })),
  );
  return [
    {
      name: "agent_mesh_attempts_total",
      type: "counter",
      help: "Ended attempts by tier and class (the failure class, or succeeded).",
      samples: attempts,
    },
    {
      name: "agent_mesh_spend_usd_total",
      type: "counter",
      help: "Real cost of ended attempts by tier, in US dollars.",
      samples: samplesOf("tier", budget.spend_usd, ExecutorTier.options),
    },
    {
      name: "agent_mesh_budget_today_usd",
      type: "gauge",
      help: "Spend of the current UTC day, in US dollars (the daily halt is judged on it).",
      samples: [{ value: budget.today_usd }],
    },
  ];
}

function traceFamilies(traces: TraceExportStatus): MetricFamily[] {
  return [
    {
      name: "agent_mesh_spans_exported_total",
      type: "counter",
      help: "Spans the OTLP collector accepted since the trace room started.",
      samples: [{ value: traces.exported_total }],
    },
    {
      name: "agent_mesh_spans_dropped_total",
      type: "counter",
      help: "Spans given up (queue full, collector failing or slow) since the trace room started.",
      samples: [{ value: traces.dropped_total }],
    },
  ];
}

/** Every family of a scrape, in a stable order. */
export function meshFamilies(readings: MeshReadings): MetricFamily[] {
  const up = (room: string, reading: unknown): Sample => ({ labels: { room }, value: reading === null ? 0 : 1 });
  return [
    ...(readings.directory === null ? [] : directoryFamilies(readings.directory)),
    ...(readings.registry === null ? [] : registryFamilies(readings.registry)),
    ...(readings.budget === null ? [] : budgetFamilies(readings.budget)),
    ...(readings.traces === null ? [] : traceFamilies(readings.traces)),
    ...(readings.webhookFailures === null
      ? []
      : [
          {
            name: "agent_mesh_webhook_failures_total",
            type: "counter" as const,
            help: "Webhook requests that failed (each failed retry counts).",
            samples: [{ value: readings.webhookFailures }],
          },
        ]),
    {
      name: "agent_mesh_metrics_room_up",
      type: "gauge",
      help: "Whether a room answered this scrape (0: its series are left out).",
      samples: [
        up("directory", readings.directory),
        up("registry", readings.registry),
        up("budget", readings.budget),
        up("notifications", readings.webhookFailures),
        up("traces", readings.traces),
      ],
    },
  ];
}
