import { z } from "zod";
import { ExecutorTier } from "./ladder.ts";
import { AttemptStatus, FailureClass, Tokens } from "./task.ts";

// The budget room's requests (from the edge and task rooms) and what it reports.

/** Reserve an attempt's estimated cost before it is dispatched; refused with `budget_halted` past the daily halt. */
export const BudgetReserve = z.object({
  type: z.literal("budget.reserve"),
  task_id: z.string(),
  attempt: z.number().int().positive(),
  tier: ExecutorTier,
});
export type BudgetReserve = z.infer<typeof BudgetReserve>;

/** One attempt, ended: its real cost replaces its reservation, and it joins the stage ledger. */
export const StageRecord = z.object({
  task_id: z.string(),
  attempt: z.number().int().positive(),
  tier: ExecutorTier,
  /** The agent that ran it; null when it never reached one (cancelled while queued). */
  agent: z.string().nullable(),
  model: z.string().optional(),
  tokens: Tokens,
  cost_usd: z.number().nonnegative(),
  latency_ms: z.number().nonnegative(),
  outcome: AttemptStatus,
  failure_class: FailureClass.optional(),
  /** The task's kind (issue 15), for spend by kind. */
  kind: z.string().optional(),
  /** When it ended (ms since epoch); set by the budget room. */
  ended_at: z.number(),
});
export type StageRecord = z.infer<typeof StageRecord>;

/** Settle an attempt at its real cost. */
export const BudgetSettle = z.object({
  type: z.literal("budget.settle"),
  stage: StageRecord.omit({ ended_at: true }),
});
export type BudgetSettle = z.infer<typeof BudgetSettle>;

/** Drop a reservation whose attempt never existed (the task could not be created after all). */
export const BudgetRelease = z.object({
  type: z.literal("budget.release"),
  task_id: z.string(),
  attempt: z.number().int().positive(),
});
export type BudgetRelease = z.infer<typeof BudgetRelease>;

export const BudgetCommand = z.discriminatedUnion("type", [BudgetReserve, BudgetSettle, BudgetRelease]);
export type BudgetCommand = z.infer<typeof BudgetCommand>;

/** The breaker: closed lets work through; open (tripped) refuses new tasks and attempts until the next UTC day or a higher limit. */
export const BreakerState = z.enum(["closed", "open"]);

/** Spend and limits as `budget_status` and `GET /api/budget` report them. */
export const BudgetStatus = z.object({
  /** The budget room's clock (ms since epoch): the windows are UTC days and months of it. */
  now: z.number(),
  day: z.object({
    date: z.string(),
    spent_usd: z.number(),
    /** Estimates of attempts that are dispatched or running, not yet settled. */
    reserved_usd: z.number(),
    halt_usd: z.number(),
    remaining_usd: z.number(),
  }),
  month: z.object({
    month: z.string(),
    spent_usd: z.number(),
    alert_usd: z.number(),
    /** When this month's spend first reached the alert (ms since epoch); the alert is raised once a month. */
    alerted_at: z.number().optional(),
  }),
  breaker: z.object({
    state: BreakerState,
    /** When it tripped today, and why. */
    tripped_at: z.number().optional(),
    reason: z.string().optional(),
    /** How many reservations it refused today. */
    refused_today: z.number().int().nonnegative(),
  }),
  /** Today's spend by tier and by agent; the month's by day. */
  by_tier: z.record(z.string(), z.number()),
  by_agent: z.record(z.string(), z.number()),
  by_day: z.array(z.object({ date: z.string(), spent_usd: z.number() })),
  /** Each of the last 30 UTC days, oldest first, today last (days without spend are 0): the dashboard's chart. */
  last_30_days: z.array(z.object({ date: z.string(), spent_usd: z.number() })),
  /** This month's spend by task kind (`(none)` for tasks without one), to tune routing on cost per succeeded attempt. */
  by_kind: z.record(z.string(), z.object({ cost_usd: z.number(), attempts: z.number().int(), succeeded: z.number().int(), cost_per_success_usd: z.number().nullable() })).optional(),
});
export type BudgetStatus = z.infer<typeof BudgetStatus>;

/** Budget room → dashboard: the status, on connect and on every change (the monthly alert among them). */
export const BudgetSnapshot = z.object({ type: z.literal("budget.snapshot"), status: BudgetStatus });
export const BudgetToDashboard = z.discriminatedUnion("type", [BudgetSnapshot]);
export type BudgetToDashboard = z.infer<typeof BudgetToDashboard>;
