import {
  type Attempt,
  type AttemptTokenEstimate,
  ExecutorTier,
  estimateAttemptUsd,
  type FailureClass,
  type ResolveDecision,
  type Result,
  refuse,
  type TaskRecord,
} from "../../protocol/index.ts";
import { budgetLimitsFrom } from "../budget-room/budget-settings.ts";
import { judgeConsensus } from "./consensus-judge.ts";
import { pendingGuidance, withGuidance } from "./guidance.ts";
import { isOpenAttempt, MAX_ATTEMPTS, newAttempt, withResult } from "./task-state.ts";

/** At most this many attempts one after another before consensus (docs/escalation.md). */
export const MAX_SEQUENTIAL = 3;

/** Consensus compares candidates: one alone is just another attempt (docs/resume.md). */
export const MIN_CONSENSUS = 2;

/** Quality failures climb the ladder; infrastructure failures stop the task (docs/escalation.md). */
const QUALITY: readonly FailureClass[] = ["test_fail", "wrong_file", "unknown"];

export type EscalationConfig = {
  /** Tiers consensus may use, in order of preference. */
  consensusTiers: readonly ExecutorTier[];
  /** How many candidates consensus runs at once (capped by the attempts left; never under MIN_CONSENSUS). */
  consensusSize: number;
  /** The budget's per-attempt estimate: what each new attempt reserves, checked against the task's `max_cost_usd`. */
  estimate?: AttemptTokenEstimate;
};

/** What the task room does next after an attempt ended. */
export type Plan =
  /** Nothing: attempts are still open, or the task has ended for good. */
  | { kind: "none" }
  /** New attempts were added (the task is queued): reserve and dispatch them. */
  | { kind: "dispatch"; task: TaskRecord; attempts: number[]; note: string }
  /** The task changed without new work: consensus picked a winner, or it now waits for a person. */
  | { kind: "settled"; task: TaskRecord; note: string };

/** The first tier above `from` that an online agent serves, and the ones passed over on the way. */
export function nextServedTier(
  from: ExecutorTier,
  served: ReadonlySet<ExecutorTier>,
): { tier: ExecutorTier | null; skipped: ExecutorTier[] } {
  const ladder = ExecutorTier.options;
  const skipped: ExecutorTier[] = [];
  for (const tier of ladder.slice(ladder.indexOf(from) + 1)) {
    if (served.has(tier)) return { tier, skipped };
    skipped.push(tier);
  }
  return { tier: null, skipped };
}

/**
 * Where a new task starts: its tier if served; else the next served one above it; with no agent at all, its own tier
 * (it waits).
 */
export function startingTier(
  tier: ExecutorTier,
  served: ReadonlySet<ExecutorTier>,
): { tier: ExecutorTier; skipped: ExecutorTier[] } {
  if (served.size === 0 || served.has(tier)) return { tier, skipped: [] };
  const next = nextServedTier(tier, served);
  return next.tier === null ? { tier, skipped: [] } : { tier: next.tier, skipped: [tier, ...next.skipped] };
}

/** One line per attempt, for the person at the human step. */
export function attemptsSummary(task: TaskRecord): string {
  return task.attempts
    .map(
      (a) =>
        `#${a.n} ${a.tier}${a.role === "consensus" ? " (consensus)" : ""} on ${a.agent ?? "no agent"}: ${a.status}${a.failure_class ? ` (${a.failure_class})` : ""}, $${a.cost_usd.toFixed(4)}${a.changed_files?.length ? `, changed ${a.changed_files.join(", ")}` : ""}`,
    )
    .join("\n");
}

function toHuman(task: TaskRecord, reason: string, now: number): Plan {
  const waiting: TaskRecord = {
    ...task,
    status: "awaiting_human",
    tier: "human",
    human: { reason, summary: attemptsSummary(task), since: now },
    updated_at: now,
  };
  return { kind: "settled", task: waiting, note: `waiting for a person: ${reason}` };
}

/**
 * The escalation ladder, applied after an attempt ended: quality failures move up to the next tier an
 * agent serves (skips recorded); after three sequential attempts, or at the top, consensus runs
 * several tiers at once; with no passing candidate, or at the cap of five attempts, a person decides.
 */
export function planNext(
  task: TaskRecord,
  served: ReadonlySet<ExecutorTier>,
  config: EscalationConfig,
  now: number,
): Plan {
  return taskCapReached(task, withinTaskCap(task, ladderStep(task, served, config, now), config, now), now);
}

const usd = (value: number): string => `$${value.toFixed(4)}`;

/**
 * The task's `max_cost_usd` against what its attempts really cost, whatever the CLI's format
 * (docs/budget.md): once reached, no further attempt is made. A task that succeeded keeps its
 * result; one that failed ends `budget_exceeded`, naming the cap.
 */
function taskCapReached(task: TaskRecord, plan: Plan, now: number): Plan {
  const max = task.max_cost_usd;
  if (max === undefined || task.cost_usd < max || task.status !== "failed" || task.attempts.some(isOpenAttempt))
    return plan;
  if (plan.kind === "settled" && plan.task.status === "succeeded") return plan;
  const last = task.attempts.at(-1);
  const what =
    last === undefined
      ? ""
      : `attempt ${last.n} (${last.tier}) ${last.status}${last.failure_class ? ` (${last.failure_class})` : ""}; `;
  const message = `${what}the task's attempts cost ${usd(task.cost_usd)}, reaching its max_cost_usd of ${usd(max)}: no further attempt is made. Create the task again with a higher max_cost_usd to go on.`;
  const ended: TaskRecord = { ...task, status: "failed", error: { code: "budget_exceeded", message }, updated_at: now };
  return { kind: "settled", task: ended, note: `stopped at the task's cap: ${message}` };
}

/**
 * The task's own hard cap (`max_cost_usd`, docs/budget.md): new attempts whose reservations, with what the
 * task has spent, would pass it are not started; the task goes to a person instead.
 */
function withinTaskCap(task: TaskRecord, plan: Plan, config: EscalationConfig, now: number): Plan {
  if (plan.kind !== "dispatch" || task.max_cost_usd === undefined) return plan;
  const added = plan.task.attempts.filter((a) => plan.attempts.includes(a.n));
  const reserving = added.reduce((sum, a) => sum + estimateAttemptUsd(a.tier, config.estimate), 0);
  if (task.cost_usd + reserving <= task.max_cost_usd) return plan;
  const what =
    added.length === 1
      ? `attempt ${added[0]?.n} at ${added[0]?.tier}`
      : `consensus (${added.map((a) => a.tier).join(", ")})`;
  return toHuman(
    task,
    `${what} would reserve ${usd(reserving)}; with ${usd(task.cost_usd)} spent that passes the task's max_cost_usd of ${usd(task.max_cost_usd)}`,
    now,
  );
}

function ladderStep(task: TaskRecord, served: ReadonlySet<ExecutorTier>, config: EscalationConfig, now: number): Plan {
  if (task.attempts.some(isOpenAttempt) || task.status === "cancelled" || task.status === "awaiting_human")
    return { kind: "none" };
  const last = task.attempts.at(-1);
  if (last === undefined) return { kind: "none" };

  if (last.role === "consensus") {
    const round = task.attempts.filter((a) => a.role === "consensus" && a.dispatched_at === last.dispatched_at);
    const decision = judgeConsensus(round);
    const winner = decision === null ? undefined : round.find((a) => a.n === decision.winner);
    if (decision === null || winner === undefined)
      return toHuman(task, "no consensus candidate passed its checks", now);
    const { error: _error, ...rest } = task;
    const won: TaskRecord = withResult({
      ...rest,
      status: "succeeded",
      winner: winner.n,
      consensus: decision,
      ...(winner.output === undefined ? {} : { output: winner.output }),
      updated_at: now,
    });
    return {
      kind: "settled",
      task: won,
      note: `consensus picked attempt ${winner.n} (${winner.tier}) of ${round.length}: ${decision.reasons.join("; ")}`,
    };
  }

  if (task.status !== "failed" || last.failure_class === undefined || !QUALITY.includes(last.failure_class))
    return { kind: "none" };
  if (task.attempts.length >= MAX_ATTEMPTS) return toHuman(task, `the cap of ${MAX_ATTEMPTS} attempts is reached`, now);

  // A person's guidance no model has seen yet goes into every new attempt's prompt (docs/resume.md).
  const guidance = pendingGuidance(task);
  const carrying = guidance === undefined ? "" : ", carrying a person's guidance";
  const sequential = task.attempts.filter((a) => a.role !== "consensus").length;
  if (sequential < MAX_SEQUENTIAL) {
    const next = nextServedTier(last.tier, served);
    const skips = next.skipped.map((tier) => ({ tier, reason: "no connected agent serves it", at: now }));
    if (next.tier !== null) {
      const attempt = withGuidance(newAttempt(task.attempts.length + 1, next.tier, now, "sequential"), guidance);
      const { error: _error, ...rest } = task;
      const climbed: TaskRecord = {
        ...rest,
        status: "queued",
        tier: next.tier,
        attempts: [...task.attempts, attempt],
        skipped_tiers: [...(task.skipped_tiers ?? []), ...skips],
        updated_at: now,
      };
      const skipped = skips.length > 0 ? ` (skipped ${next.skipped.join(", ")}: no agent serves them)` : "";
      return {
        kind: "dispatch",
        task: climbed,
        attempts: [attempt.n],
        note: `attempt ${last.n} failed (${last.failure_class}); escalating to ${next.tier}${skipped}${carrying}`,
      };
    }
  }

  const left = MAX_ATTEMPTS - task.attempts.length;
  if (left < MIN_CONSENSUS)
    return toHuman(
      task,
      `the cap of ${MAX_ATTEMPTS} attempts leaves room for ${left}, and consensus needs ${MIN_CONSENSUS} candidates`,
      now,
    );
  const servedTiers = config.consensusTiers.filter((tier) => served.has(tier));
  const tiers = servedTiers.slice(0, Math.min(Math.max(config.consensusSize, MIN_CONSENSUS), left));
  if (tiers.length === 0) return toHuman(task, "no agent serves a consensus tier", now);
  if (tiers.length < MIN_CONSENSUS)
    return toHuman(
      task,
      `consensus needs ${MIN_CONSENSUS} candidates, and of its tiers (${config.consensusTiers.join(", ")}) only ${tiers.join(", ")} is served`,
      now,
    );
  const candidates = tiers.map((tier, i) =>
    withGuidance(newAttempt(task.attempts.length + 1 + i, tier, now, "consensus"), guidance),
  );
  const { error: _error, ...rest } = task;
  const round: TaskRecord = {
    ...rest,
    status: "queued",
    tier: "consensus",
    attempts: [...task.attempts, ...candidates],
    updated_at: now,
  };
  return {
    kind: "dispatch",
    task: round,
    attempts: candidates.map((a) => a.n),
    note: `consensus: ${tiers.join(", ")} run at once${carrying}`,
  };
}

/**
 * The attempt a person's approval accepts: one that passed, else the latest whose CLI at least succeeded, else the
 * latest.
 */
function bestAttempt(task: TaskRecord): Attempt | undefined {
  const ended = task.attempts.filter((a) => !isOpenAttempt(a) && a.status !== "cancelled");
  const rank = (a: Attempt): number =>
    a.status === "succeeded" ? 2 : a.failure_class === "test_fail" || a.failure_class === "wrong_file" ? 1 : 0;
  return [...ended].sort((a, b) => rank(b) - rank(a) || b.n - a.n)[0];
}

/**
 * A person's decision at the human step. Approve takes the best attempt's result; reject fails the
 * task; retry adds one attempt (a person may go past the automatic cap) with their guidance.
 */
export function resolveTask(
  task: TaskRecord,
  decision: ResolveDecision,
  retryTier: ExecutorTier | null,
  now: number,
): Result<Plan> {
  if (task.status !== "awaiting_human" || task.human === undefined) {
    return refuse(
      "conflict",
      `task ${task.task_id} is ${task.status}; resolve applies only to a task awaiting a person (status awaiting_human)`,
    );
  }
  const human = { ...task.human, decision: decision.decision, decided_at: now };
  if (decision.decision === "reject") {
    const rejected: TaskRecord = {
      ...task,
      status: "failed",
      human,
      error: { code: "rejected", message: decision.guidance ?? "rejected by a person" },
      updated_at: now,
    };
    return {
      ok: true,
      value: {
        kind: "settled",
        task: rejected,
        note: `a person rejected the task${decision.guidance ? `: ${decision.guidance}` : ""}`,
      },
    };
  }
  if (decision.decision === "approve") {
    const best = bestAttempt(task);
    if (best === undefined) return refuse("conflict", "no attempt ended with a result to approve; retry or reject");
    const { error: _error, ...rest } = task;
    const approved: TaskRecord = withResult({
      ...rest,
      status: "succeeded",
      human,
      winner: best.n,
      ...(best.output === undefined ? {} : { output: best.output }),
      updated_at: now,
    });
    return {
      ok: true,
      value: { kind: "settled", task: approved, note: `a person approved attempt ${best.n} (${best.tier})` },
    };
  }
  const tier = retryTier ?? task.attempts.at(-1)?.tier ?? "sonnet";
  // Without new words, earlier guidance no model has seen yet still goes (docs/resume.md).
  const guidance = decision.guidance ?? pendingGuidance(task);
  const attempt = newAttempt(task.attempts.length + 1, tier, now, "retry", guidance);
  const { error: _error, ...rest } = task;
  const retried: TaskRecord = {
    ...rest,
    status: "queued",
    tier,
    human,
    attempts: [...task.attempts, attempt],
    updated_at: now,
  };
  return {
    ok: true,
    value: {
      kind: "dispatch",
      task: retried,
      attempts: [attempt.n],
      note: `a person asked for a retry at ${tier}${guidance === undefined ? "" : decision.guidance === undefined ? " with the earlier guidance no model has seen yet" : " with guidance"}`,
    },
  };
}

/**
 * The consensus settings from the room's environment (`MESH_CONSENSUS_TIERS`, `MESH_CONSENSUS_SIZE`; README
 * "Escalation").
 */
export function escalationConfigFrom(env: Record<string, unknown>): EscalationConfig {
  const listed =
    typeof env.MESH_CONSENSUS_TIERS === "string"
      ? env.MESH_CONSENSUS_TIERS.split(",").map((t) => t.trim())
      : ["opus", "sonnet", "codex", "gemini-pro"];
  const consensusTiers = listed.flatMap((t) => {
    const tier = ExecutorTier.safeParse(t);
    return tier.success ? [tier.data] : [];
  });
  const size = Number(env.MESH_CONSENSUS_SIZE ?? 2);
  return {
    consensusTiers,
    consensusSize: Number.isInteger(size) && size >= MIN_CONSENSUS ? size : MIN_CONSENSUS,
    estimate: budgetLimitsFrom(env).estimate,
  };
}
