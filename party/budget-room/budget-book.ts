import type {
  AttemptTokenEstimate,
  BudgetDayRecord,
  BudgetGrant,
  BudgetMonthRecord,
  BudgetReserve,
  BudgetStart,
  ErrorBody,
  LearnedCostsRecord,
  ReservationRecord,
  Result,
  StageRecord,
} from "../../protocol/index.ts";
import { haltedNow, haltReason, reservedUsd, usd } from "./budget-breaker.ts";
import { estimateOf, learnCost } from "./learned-estimates.ts";

export { reservedUsd } from "./budget-breaker.ts";
export { budgetStatus } from "./budget-status.ts";

/** Limits in force: read from the server's settings on every request, so raising one takes effect at once. */
export type BudgetLimits = { dailyHaltUsd: number; monthlyAlertUsd: number; estimate: AttemptTokenEstimate };

/** One UTC day's spend (stored; protocol/budget.ts). */
export type DayTotals = BudgetDayRecord;
/** One UTC month's spend (stored). */
export type MonthTotals = BudgetMonthRecord;
/** A task kind's month: what routing by kind costs per succeeded attempt. */
export type KindTotals = { cost_usd: number; attempts: number; succeeded: number };
/** Where attempts of tasks with no `kind` are counted. */
export const NO_KIND = "(none)";

export type Reservation = ReservationRecord;

/** Everything the budget room holds in memory; persisted key by key. `learned`: the real costs estimates come from. */
export type BudgetState = {
  day: DayTotals;
  month: MonthTotals;
  reservations: Record<string, Reservation>;
  learned: LearnedCostsRecord;
};

export const utcDate = (now: number): string => new Date(now).toISOString().slice(0, 10);
export const utcMonth = (now: number): string => new Date(now).toISOString().slice(0, 7);

const newDay = (now: number): DayTotals => ({
  date: utcDate(now),
  spent_usd: 0,
  by_tier: {},
  by_agent: {},
  refused: 0,
});
const newMonth = (now: number): MonthTotals => ({ month: utcMonth(now), spent_usd: 0, by_day: {} });
const add = (record: Record<string, number>, key: string, value: number): Record<string, number> => ({
  ...record,
  [key]: (record[key] ?? 0) + value,
});

export function emptyBudget(now: number): BudgetState {
  return { day: newDay(now), month: newMonth(now), reservations: {}, learned: {} };
}

/**
 * Starts a new day or month when the clock has crossed a UTC boundary. Reservations carry over: their attempts still
 * run.
 */
export function rollWindows(state: BudgetState, now: number): BudgetState {
  const day = state.day.date === utcDate(now) ? state.day : newDay(now);
  const month =
    state.month.month === utcMonth(now) ? state.month : { ...newMonth(now), previous_by_day: state.month.by_day };
  return day === state.day && month === state.month ? state : { ...state, day, month };
}

const reservationKey = (taskId: string, attempt: number): string => `${taskId}:${attempt}`;

const halted = (message: string): ErrorBody => ({
  code: "budget_halted",
  message: `budget halted: ${message}. It clears at 00:00 UTC or when MESH_DAILY_HALT_USD is raised; running attempts go on.`,
});

/**
 * Reserves an attempt's estimate when its task is created or climbs (the tier's learned estimate:
 * the executor is not known yet), or refuses it when the breaker halted or spend + reservations +
 * the estimate would pass the daily halt. Every admission reserves first and this check is atomic
 * in the room. Idempotent per attempt.
 */
export function reserve(
  state: BudgetState,
  request: BudgetReserve,
  now: number,
  limits: BudgetLimits,
): { state: BudgetState; refused: ErrorBody | null } {
  const windows = rollWindows(state, now);
  const key = reservationKey(request.task_id, request.attempt);
  const held = windows.reservations[key];
  if (held !== undefined && held.tier === request.tier) return { state: windows, refused: null };
  // The reservation follows the tier that runs: one made at another tier is replaced, and the new one is judged without
  // it.
  const rolled = held === undefined ? windows : release(windows, request.task_id, request.attempt);
  const estimate = estimateOf(rolled.learned, request.tier, undefined, limits.estimate).estimate_usd;
  const stopped = haltedNow(rolled, limits);
  if (stopped || rolled.day.spent_usd + reservedUsd(rolled) + estimate > limits.dailyHaltUsd) {
    const day: DayTotals = {
      ...rolled.day,
      refused: rolled.day.refused + 1,
      tripped_at: rolled.day.tripped_at ?? now,
      ...(stopped ? {} : { refused_estimate_usd: estimate, refused_tier: request.tier }),
    };
    return {
      state: { ...rolled, day },
      refused: halted(
        stopped
          ? haltReason(rolled, limits)
          : wouldPass(rolled, estimate, `a ${request.tier} attempt's estimate`, limits),
      ),
    };
  }
  const reservation: Reservation = {
    task_id: request.task_id,
    attempt: request.attempt,
    tier: request.tier,
    estimate_usd: estimate,
    reserved_at: now,
  };
  return { state: { ...rolled, reservations: { ...rolled.reservations, [key]: reservation } }, refused: null };
}

/**
 * The start gate (docs/budget.md): an agent is about to run an attempt. Refused while the breaker is
 * halted, or when today's spend + the other reservations + the attempt's learned estimate (its tier
 * and executor) would pass the halt; a refusal halts the breaker and gives the reservation back.
 * Otherwise the reservation becomes the learned estimate, marked started, and the attempt's cap is
 * what the halt leaves it: halt − spend − the other reservations. Asked again, it grants again.
 */
export function start(
  state: BudgetState,
  request: BudgetStart,
  now: number,
  limits: BudgetLimits,
): { state: BudgetState; outcome: Result<BudgetGrant> } {
  const rolled = rollWindows(state, now);
  const key = reservationKey(request.task_id, request.attempt);
  const held = rolled.reservations[key];
  const others = reservedUsd(rolled) - (held?.estimate_usd ?? 0);
  const capOf = (): number => Math.max(0, limits.dailyHaltUsd - rolled.day.spent_usd - others);
  if (held?.started_at !== undefined)
    return { state: rolled, outcome: { ok: true, value: { cap_usd: capOf(), estimate_usd: held.estimate_usd } } };
  const estimate = estimateOf(rolled.learned, request.tier, request.executor, limits.estimate).estimate_usd;
  const stopped = haltedNow(rolled, limits);
  if (stopped || rolled.day.spent_usd + others + estimate > limits.dailyHaltUsd) {
    const freed = release(rolled, request.task_id, request.attempt);
    const refusedDay: DayTotals = {
      ...freed.day,
      refused: freed.day.refused + 1,
      tripped_at: freed.day.tripped_at ?? now,
      ...(stopped
        ? {}
        : {
            halt_estimate_usd: estimate,
            halt_tier: request.tier,
            refused_estimate_usd: estimate,
            refused_tier: request.tier,
          }),
    };
    // It halts only if the estimate does not fit beside spend and the running attempts alone; refused
    // for lack of room beside queued ones, the others still start if they fit.
    const day: DayTotals = haltedNow({ ...freed, day: refusedDay }, limits)
      ? { ...refusedDay, halted_at: refusedDay.halted_at ?? now }
      : refusedDay;
    const why = stopped
      ? haltReason(rolled, limits)
      : wouldPass(
          rolled,
          estimate,
          `attempt ${request.attempt} of task ${request.task_id} (${request.tier} on ${request.executor}), estimated from what such attempts cost,`,
          limits,
          others,
        );
    return { state: { ...freed, day }, outcome: { ok: false, error: halted(`${why}; the attempt was not started`) } };
  }
  const reservation: Reservation = {
    task_id: request.task_id,
    attempt: request.attempt,
    tier: request.tier,
    estimate_usd: estimate,
    reserved_at: held?.reserved_at ?? now,
    started_at: now,
    executor: request.executor,
  };
  const next = { ...rolled, reservations: { ...rolled.reservations, [key]: reservation } };
  return { state: next, outcome: { ok: true, value: { cap_usd: capOf(), estimate_usd: estimate } } };
}

function wouldPass(
  state: BudgetState,
  estimate: number,
  what: string,
  limits: BudgetLimits,
  reserved = reservedUsd(state),
): string {
  return `today's spend ${usd(state.day.spent_usd)} + reserved ${usd(reserved)} + ${what} ${usd(estimate)} would pass the daily halt of ${usd(limits.dailyHaltUsd)}`;
}

/** Drops a reservation whose attempt never came to be. */
export function release(state: BudgetState, taskId: string, attempt: number): BudgetState {
  const key = reservationKey(taskId, attempt);
  if (state.reservations[key] === undefined) return state;
  const { [key]: _dropped, ...reservations } = state.reservations;
  return { ...state, reservations };
}

/**
 * Settles an ended attempt at its real cost: the reservation goes, the spend is added to the day
 * (by tier and agent) and the month, the cost is learned, and the month's alert is raised the first
 * time it is reached. A cost past the reservation does not open the breaker by itself; spend that
 * reaches the halt does (docs/budget.md "The breaker").
 */
export function settle(
  state: BudgetState,
  stage: Omit<StageRecord, "ended_at">,
  now: number,
  limits: BudgetLimits,
): { state: BudgetState; entry: StageRecord; alertRaised: boolean } {
  const rolled = release(rollWindows(state, now), stage.task_id, stage.attempt);
  const cost = stage.cost_usd;
  const spentToday = rolled.day.spent_usd + cost;
  const reached = spentToday >= limits.dailyHaltUsd && cost > 0;
  const day: DayTotals = {
    ...rolled.day,
    ...(reached ? { halted_at: rolled.day.halted_at ?? now, tripped_at: rolled.day.tripped_at ?? now } : {}),
    spent_usd: spentToday,
    by_tier: add(rolled.day.by_tier, stage.tier, cost),
    by_agent: stage.agent === null ? rolled.day.by_agent : add(rolled.day.by_agent, stage.agent, cost),
  };
  const spent = rolled.month.spent_usd + cost;
  const alertRaised = rolled.month.alerted_at === undefined && spent >= limits.monthlyAlertUsd;
  const month: MonthTotals = {
    ...rolled.month,
    spent_usd: spent,
    by_day: add(rolled.month.by_day, day.date, cost),
    by_kind: addKind(rolled.month.by_kind ?? {}, stage.kind ?? NO_KIND, cost, stage.outcome === "succeeded"),
    ...(alertRaised ? { alerted_at: now } : {}),
  };
  return {
    state: { ...rolled, day, month, learned: learnCost(rolled.learned, stage) },
    entry: { ...stage, ended_at: now },
    alertRaised,
  };
}

function addKind(
  byKind: Record<string, KindTotals>,
  kind: string,
  cost: number,
  succeeded: boolean,
): Record<string, KindTotals> {
  const was = byKind[kind] ?? { cost_usd: 0, attempts: 0, succeeded: 0 };
  return {
    ...byKind,
    [kind]: {
      cost_usd: was.cost_usd + cost,
      attempts: was.attempts + 1,
      succeeded: was.succeeded + (succeeded ? 1 : 0),
    },
  };
}

/**
 * The reservations whose task rooms must hear that the breaker halted: those not started yet, when
 * it halted between `before` and `after`. Their rooms fail them `budget_halted` and give them back;
 * the start gate refuses them anyway, so a lost notice costs nothing.
 */
export function haltNotices(
  before: BudgetState,
  after: BudgetState,
  now: number,
  limits: BudgetLimits,
): { task_id: string; attempt: number; message: string }[] {
  if (haltedNow(rollWindows(before, now), limits) || !haltedNow(after, limits)) return [];
  const message = halted(`${haltReason(after, limits)}; this queued attempt was not started`).message;
  return Object.values(after.reservations)
    .filter((r) => r.started_at === undefined)
    .map((r) => ({ task_id: r.task_id, attempt: r.attempt, message }));
}

/**
 * Drops reservations older than `ttlMs`: an attempt that never settled (its agent and room both
 * lost track of it) must not hold headroom for ever. Real attempts end long before (executor timeouts).
 */
export function expireReservations(state: BudgetState, now: number, ttlMs: number): BudgetState {
  const kept = Object.entries(state.reservations).filter(([, r]) => now - r.reserved_at <= ttlMs);
  return kept.length === Object.keys(state.reservations).length
    ? state
    : { ...state, reservations: Object.fromEntries(kept) };
}

/** Counts these reservations' age from now: their attempts still wait or run. */
export function renewReservations(state: BudgetState, live: readonly Reservation[], now: number): BudgetState {
  if (live.length === 0) return state;
  const reservations = { ...state.reservations };
  for (const r of live) {
    const key = reservationKey(r.task_id, r.attempt);
    if (reservations[key] !== undefined) reservations[key] = { ...r, reserved_at: now };
  }
  return { ...state, reservations };
}
