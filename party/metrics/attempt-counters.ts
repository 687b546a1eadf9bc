import type { StageRecord } from "../../protocol/index.ts";
import { type AttemptClass, AttemptCountersRecord, type BudgetMetrics } from "../../protocol/metrics.ts";

// The budget's part of `GET /metrics` (docs/metrics.md): every ended attempt is settled in the budget
// room exactly once (it marks each settled), so that is where attempts are counted by tier and class
// and their cost summed by tier, in one small record stored with the day's totals.

/** Where the budget room keeps the counters. */
export const ATTEMPT_COUNTERS_KEY = "metrics:attempts";

export const emptyAttemptCounters = (): AttemptCountersRecord => ({ attempts: {}, spend_usd: {} });

/** How an ended attempt is labelled: `succeeded`, or its failure class (a failure without one is `unknown`). */
export function attemptClass(stage: Pick<StageRecord, "outcome" | "failure_class">): AttemptClass {
  if (stage.outcome === "succeeded") return "succeeded";
  return stage.failure_class ?? (stage.outcome === "cancelled" ? "cancelled" : "unknown");
}

/** The counters with one more ended attempt. */
export function countSettled(
  counters: AttemptCountersRecord,
  stage: Pick<StageRecord, "tier" | "outcome" | "failure_class" | "cost_usd">,
): AttemptCountersRecord {
  const klass = attemptClass(stage);
  const tier = counters.attempts[stage.tier] ?? {};
  return {
    attempts: { ...counters.attempts, [stage.tier]: { ...tier, [klass]: (tier[klass] ?? 0) + 1 } },
    spend_usd: { ...counters.spend_usd, [stage.tier]: (counters.spend_usd[stage.tier] ?? 0) + stage.cost_usd },
  };
}

/** Stored counters, parsed; absent or unreadable ones start from zero (Prometheus reads that as a counter reset). */
export function storedAttemptCounters(raw: unknown): AttemptCountersRecord {
  const parsed = AttemptCountersRecord.safeParse(raw);
  return parsed.success ? parsed.data : emptyAttemptCounters();
}

/** The budget's answer to the edge's `?view=metrics`. */
export function budgetMetrics(counters: AttemptCountersRecord, todayUsd: number): BudgetMetrics {
  return { ...counters, today_usd: todayUsd };
}
