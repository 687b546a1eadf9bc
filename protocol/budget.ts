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
  /** The task's kind (docs/scheduling.md), for spend by kind. */
  kind: z.string().optional(),
  /**
   * The program that ran it (the attempt's executor, e.g. `claude`): estimates are learned per tier and executor
   * (docs/budget.md).
   */
  executor: z.string().max(200).optional(),
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

/**
 * Task room → budget: an agent is about to run this attempt (its `attempt.hello` came). Granted with
 * a cap, or refused `budget_halted` once the breaker halted or the attempt's learned estimate no
 * longer fits under the daily halt (docs/budget.md "The start gate").
 */
export const BudgetStart = z.object({
  type: z.literal("budget.start"),
  task_id: z.string(),
  attempt: z.number().int().positive(),
  tier: ExecutorTier,
  /** The program the agent runs it with (`attempt.hello`'s executor). */
  executor: z.string().max(200),
});
export type BudgetStart = z.infer<typeof BudgetStart>;

/** The budget's answer to `budget.start`: the attempt may run. */
export const BudgetGrant = z.object({
  /** What the daily halt leaves for it: the halt less today's spend and the other reservations (never below 0). */
  cap_usd: z.number().nonnegative(),
  /** Its reservation from now on: the learned estimate of its tier and executor. */
  estimate_usd: z.number().nonnegative(),
});
export type BudgetGrant = z.infer<typeof BudgetGrant>;

export const BudgetCommand = z.discriminatedUnion("type", [BudgetReserve, BudgetSettle, BudgetRelease, BudgetStart]);
export type BudgetCommand = z.infer<typeof BudgetCommand>;

/**
 * Budget → task room: the breaker halted while this attempt held a reservation it had not started;
 * fail it `budget_halted` if it still has not started, and give the reservation back.
 */
export const BudgetHalted = z.object({
  type: z.literal("budget.halted"),
  attempt: z.number().int().positive(),
  /** What happened and what to do, for the task's error. */
  message: z.string().max(2000),
});
export type BudgetHalted = z.infer<typeof BudgetHalted>;

/** Where an estimate comes from: real costs in the ledger, or the token estimate at the tier's default price. */
export const EstimateSource = z.enum(["ledger", "rates"]);

/** One learned estimate, as `GET /api/budget` shows it. */
export const BudgetEstimate = z.object({
  tier: ExecutorTier,
  /** Absent: the tier's estimate whatever the executor (used at a task's creation, before an agent is known). */
  executor: z.string().optional(),
  estimate_usd: z.number().nonnegative(),
  /** How many real costs it is learned from (at most 20). */
  samples: z.number().int().nonnegative(),
  source: EstimateSource,
});
export type BudgetEstimate = z.infer<typeof BudgetEstimate>;

/**
 * The breaker: closed lets work through; open (tripped) refuses new tasks and attempts until the next UTC day or a
 * higher limit.
 */
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
    /** How many reservations and starts it refused today. */
    refused_today: z.number().int().nonnegative(),
    /**
     * When it halted today: spend reached the halt, or an admitted attempt's start was refused. No
     * attempt starts while it stays halted (until 00:00 UTC or a higher MESH_DAILY_HALT_USD).
     */
    halted_at: z.number().optional(),
  }),
  /** Today's spend by tier and by agent; the month's by day. */
  by_tier: z.record(z.string(), z.number()),
  by_agent: z.record(z.string(), z.number()),
  by_day: z.array(z.object({ date: z.string(), spent_usd: z.number() })),
  /** Each of the last 30 UTC days, oldest first, today last (days without spend are 0): the dashboard's chart. */
  last_30_days: z.array(z.object({ date: z.string(), spent_usd: z.number() })),
  /**
   * This month's spend by task kind (`(none)` for tasks without one), to tune routing on cost per succeeded attempt.
   */
  by_kind: z
    .record(
      z.string(),
      z.object({
        cost_usd: z.number(),
        attempts: z.number().int(),
        succeeded: z.number().int(),
        cost_per_success_usd: z.number().nullable(),
      }),
    )
    .optional(),
  /**
   * What an attempt reserves now: per tier, and per tier and executor where the ledger has real costs (docs/budget.md).
   */
  estimates: z.array(BudgetEstimate).optional(),
});
export type BudgetStatus = z.infer<typeof BudgetStatus>;

/** Budget room → dashboard: the status, on connect and on every change (the monthly alert among them). */
export const BudgetSnapshot = z.object({ type: z.literal("budget.snapshot"), status: BudgetStatus });
export const BudgetToDashboard = z.discriminatedUnion("type", [BudgetSnapshot]);
export type BudgetToDashboard = z.infer<typeof BudgetToDashboard>;

// What the budget room keeps in storage, parsed on every read (an older build's record still reads).

/**
 * One UTC day's spend. Earlier builds also wrote `overrun` (an attempt past its reservation opened
 * the breaker); it no longer does, and the field is dropped when an old day is read (docs/budget.md).
 */
export const BudgetDayRecord = z.object({
  date: z.string(),
  spent_usd: z.number(),
  by_tier: z.record(z.string(), z.number()),
  by_agent: z.record(z.string(), z.number()),
  refused: z.number().int().nonnegative(),
  /** The first refusal (or halt) of the day. */
  tripped_at: z.number().optional(),
  /** Written by earlier builds; the reason is rebuilt from the facts below and the settings in force. */
  reason: z.string().optional(),
  /** The estimate refused last: the breaker stays open while it still would not fit. */
  refused_estimate_usd: z.number().optional(),
  refused_tier: ExecutorTier.optional(),
  /** When it halted: spend reached the halt, or a start was refused. */
  halted_at: z.number().optional(),
  /** A refused start's estimate and tier: it stays halted while that estimate still would not fit. */
  halt_estimate_usd: z.number().optional(),
  halt_tier: ExecutorTier.optional(),
});
export type BudgetDayRecord = z.infer<typeof BudgetDayRecord>;

/** A task kind's month: what routing by kind costs per succeeded attempt. */
export const KindTotalsRecord = z.object({
  cost_usd: z.number(),
  attempts: z.number().int(),
  succeeded: z.number().int(),
});

/** One UTC month's spend; the alert is raised once, when the spend first reaches it. */
export const BudgetMonthRecord = z.object({
  month: z.string(),
  spent_usd: z.number(),
  by_day: z.record(z.string(), z.number()),
  /** The month before's days, kept at the rollover so the last 30 days can always be drawn. */
  previous_by_day: z.record(z.string(), z.number()).optional(),
  alerted_at: z.number().optional(),
  by_kind: z.record(z.string(), KindTotalsRecord).optional(),
});
export type BudgetMonthRecord = z.infer<typeof BudgetMonthRecord>;

/** An attempt's reservation: its estimate, held from its dispatch until it settles. */
export const ReservationRecord = z.object({
  task_id: z.string(),
  attempt: z.number().int().positive(),
  tier: ExecutorTier,
  estimate_usd: z.number().nonnegative(),
  /** When it was made or last renewed (its TTL counts from here). */
  reserved_at: z.number(),
  /** When the budget let its attempt start (`budget.start`); absent while it waits. */
  started_at: z.number().optional(),
  executor: z.string().optional(),
});
export type ReservationRecord = z.infer<typeof ReservationRecord>;

/** The real costs estimates are learned from, newest last (at most 20 each): by tier, and by `tier executor`. */
export const LearnedCostsRecord = z.record(z.string(), z.array(z.number().nonnegative()).max(20));
export type LearnedCostsRecord = z.infer<typeof LearnedCostsRecord>;
