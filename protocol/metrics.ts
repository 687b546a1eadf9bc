import { z } from "zod";
import { AgentState } from "./agent-record.ts";
import { MIN_SECRET_CHARS } from "./identity.ts";
import { ExecutorTier } from "./ladder.ts";
import { FailureClass, TaskStatus } from "./task.ts";

// `GET /metrics` (docs/metrics.md): what each room reports to the edge for a scrape, and the small
// counters rooms keep in storage so a scrape never reads every task.

/** The route Prometheus scrapes. */
export const METRICS_PATH = "/metrics";
/** The setting with the scrape credential: a secret of its own, so Prometheus never holds the orchestrator token. */
export const METRICS_TOKEN_SETTING = "MESH_METRICS_TOKEN";

/** Why MESH_METRICS_TOKEN cannot be used (one line), or null: unset, or a secret as long as the others. */
export function metricsTokenProblem(value: string | undefined): string | null {
  if (value === undefined || value === "") return null;
  return value.length >= MIN_SECRET_CHARS
    ? null
    : `${METRICS_TOKEN_SETTING} is ${value.length} characters; set it to a random secret of ${MIN_SECRET_CHARS}+ characters (e.g. openssl rand -base64 32) or leave it unset`;
}

const Count = z.number().int().nonnegative();

/** How an attempt ended, as `agent_mesh_attempts_total` labels it: its failure class, or `succeeded`. */
export const AttemptClass = z.enum(["succeeded", ...FailureClass.options]);
export type AttemptClass = z.infer<typeof AttemptClass>;

/** Tasks by status, kept by the directory as summaries change (stored, and its `?view=metrics`). */
export const TaskStatusCounts = z.partialRecord(TaskStatus, Count);
export type TaskStatusCounts = z.infer<typeof TaskStatusCounts>;

export const DirectoryMetrics = z.object({ tasks: TaskStatusCounts });
export type DirectoryMetrics = z.infer<typeof DirectoryMetrics>;

/**
 * Upper bounds (seconds) of the dispatch wait's buckets: an idle agent takes an attempt in
 * milliseconds, a queued one waits minutes, a tier nobody serves up to its queue timeout.
 */
export const DISPATCH_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
] as const;

/**
 * A histogram as stored: `counts[i]` observations in bucket i alone (not cumulative), the last one past every bound.
 */
export const HistogramRecord = z.object({
  bounds: z.array(z.number()),
  counts: z.array(Count),
  sum: z.number().nonnegative(),
  count: Count,
});
export type HistogramRecord = z.infer<typeof HistogramRecord>;

export const RegistryMetrics = z.object({
  /** Dispatch requests waiting for an agent, by the attempt's tier. */
  queue: z.partialRecord(ExecutorTier, Count),
  agents: z.partialRecord(AgentState, Count),
  /** Slots of online agents: busy (holding an attempt) or idle. */
  slots: z.object({ busy: Count, idle: Count }),
  /** Seconds from an attempt's dispatch request to its hand-out to an agent. */
  dispatch: HistogramRecord,
});
export type RegistryMetrics = z.infer<typeof RegistryMetrics>;

/** What the budget counts of ended attempts since it began (stored beside the day and month). */
export const AttemptCountersRecord = z.object({
  /** Ended attempts by tier and class. */
  attempts: z.partialRecord(ExecutorTier, z.partialRecord(AttemptClass, Count)),
  /** Real cost of every ended attempt by tier, in USD: the day's totals reset at midnight, these do not. */
  spend_usd: z.partialRecord(ExecutorTier, z.number().nonnegative()),
});
export type AttemptCountersRecord = z.infer<typeof AttemptCountersRecord>;

export const BudgetMetrics = AttemptCountersRecord.extend({
  /** Today's spend (UTC day), as `GET /api/budget` reports it. */
  today_usd: z.number().nonnegative(),
});
export type BudgetMetrics = z.infer<typeof BudgetMetrics>;
