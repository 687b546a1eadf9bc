import {
  type AttemptTokenEstimate,
  type BudgetEstimate,
  ExecutorTier,
  estimateAttemptUsd,
  type LearnedCostsRecord,
  type StageRecord,
} from "../../protocol/index.ts";

// What an attempt is expected to cost, learned from the ledger (docs/budget.md "Estimates"): the
// 90th percentile of the last 20 real costs of its tier and executor, else of its tier, else the
// token estimate at the price of the model the tier runs by default. A p90 rather than a mean: one
// cheap run must not let the next dear one through, and a reservation that is too high only delays.

/** How many real costs each estimate keeps. */
export const LEARNED_SAMPLES = 20;

const pairKey = (tier: ExecutorTier, executor: string): string => `${tier} ${executor}`;

/** Failures whose cost says nothing of what the tier costs: the attempt never ran, or ran cut short by the mesh. */
const NOT_A_RUN: ReadonlySet<string> = new Set([
  "agent_lost",
  "no_agent",
  "disk_full",
  "dependency_failed",
  "cancelled",
  "repo_unavailable",
  "setup_failed",
]);

/**
 * Whether a settled attempt's cost is a real run's: it reached an agent, ended on its own (succeeded
 * or failed), and its CLI reported something (a `text` executor reports neither tokens nor cost: its
 * $0 is unknown, not free).
 */
function isRealRun(stage: Omit<StageRecord, "ended_at">): boolean {
  if (stage.agent === null || (stage.outcome !== "succeeded" && stage.outcome !== "failed")) return false;
  if (stage.cost_usd === 0 && stage.tokens.input === 0 && stage.tokens.output === 0) return false;
  return stage.failure_class === undefined || !NOT_A_RUN.has(stage.failure_class);
}

const keep = (costs: readonly number[] | undefined, cost: number): number[] =>
  [...(costs ?? []), cost].slice(-LEARNED_SAMPLES);

/** Adds a settled attempt's cost to its tier's samples and its tier-and-executor's; the oldest beyond 20 go. */
export function learnCost(learned: LearnedCostsRecord, stage: Omit<StageRecord, "ended_at">): LearnedCostsRecord {
  if (!isRealRun(stage)) return learned;
  const next: LearnedCostsRecord = { ...learned, [stage.tier]: keep(learned[stage.tier], stage.cost_usd) };
  if (stage.executor !== undefined && stage.executor !== "")
    next[pairKey(stage.tier, stage.executor)] = keep(learned[pairKey(stage.tier, stage.executor)], stage.cost_usd);
  return next;
}

/** The 90th percentile by nearest rank: of 20 costs, the 18th smallest; of one, that one. */
export function p90(costs: readonly number[]): number {
  const sorted = [...costs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.9) - 1)] ?? 0;
}

/** The estimate for an attempt at `tier` run by `executor` (unknown at a task's creation). */
export function estimateOf(
  learned: LearnedCostsRecord,
  tier: ExecutorTier,
  executor: string | undefined,
  tokens: AttemptTokenEstimate,
): BudgetEstimate {
  const pair = executor === undefined || executor === "" ? undefined : learned[pairKey(tier, executor)];
  const costs = pair !== undefined && pair.length > 0 ? pair : learned[tier];
  if (costs === undefined || costs.length === 0)
    return { tier, estimate_usd: estimateAttemptUsd(tier, tokens), samples: 0, source: "rates" };
  return {
    tier,
    ...(costs === pair && executor !== undefined ? { executor } : {}),
    estimate_usd: p90(costs),
    samples: costs.length,
    source: "ledger",
  };
}

/** Every estimate in force: one per tier, then one per tier and executor the ledger has seen. */
export function estimatesOf(learned: LearnedCostsRecord, tokens: AttemptTokenEstimate): BudgetEstimate[] {
  const byTier = ExecutorTier.options.map((tier) => estimateOf(learned, tier, undefined, tokens));
  const byExecutor = Object.keys(learned).flatMap((key) => {
    const space = key.indexOf(" ");
    const tier = ExecutorTier.safeParse(key.slice(0, space));
    return space === -1 || !tier.success ? [] : [estimateOf(learned, tier.data, key.slice(space + 1), tokens)];
  });
  return [...byTier, ...byExecutor.sort((a, b) => `${a.tier} ${a.executor}`.localeCompare(`${b.tier} ${b.executor}`))];
}
