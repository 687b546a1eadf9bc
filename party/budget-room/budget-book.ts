import { estimateAttemptUsd, type AttemptTokenEstimate, type BudgetReserve, type BudgetStatus, type ErrorBody, type StageRecord } from "../../protocol/index.ts";

/** Limits in force: read from the server's settings on every request, so raising one takes effect at once. */
export type BudgetLimits = { dailyHaltUsd: number; monthlyAlertUsd: number; estimate: AttemptTokenEstimate };

/** One UTC day's spend. `tripped_at` is set by the first refusal of the day: the breaker trips once. */
export type DayTotals = {
  date: string;
  spent_usd: number;
  by_tier: Record<string, number>;
  by_agent: Record<string, number>;
  refused: number;
  tripped_at?: number;
  /** Written by earlier builds; the reason is rebuilt from the facts below and the settings in force (issue 13). */
  reason?: string;
  /** The estimate that was refused last: the breaker stays open while it still would not fit. */
  refused_estimate_usd?: number;
  /** The tier of that refused estimate, for the reason. */
  refused_tier?: BudgetReserve["tier"];
  /**
   * An attempt settled past its reservation (its cost cap): the breaker opened at once, and stays open
   * until the day ends or the halt is raised above the one in force then (issue 13, "a budget that holds").
   */
  overrun?: { task_id: string; attempt: number; tier: BudgetReserve["tier"]; cost_usd: number; reserved_usd: number; halt_usd: number };
};

/** One UTC month's spend; the alert is raised once, when the spend first reaches it. */
export type MonthTotals = {
  month: string;
  spent_usd: number;
  by_day: Record<string, number>;
  /** The month before's days, kept at the rollover so the last 30 days can always be drawn (issue 17). */
  previous_by_day?: Record<string, number>;
  alerted_at?: number;
  by_kind?: Record<string, KindTotals>;
};
/** A task kind's month (issue 15): what routing by kind costs per succeeded attempt. */
export type KindTotals = { cost_usd: number; attempts: number; succeeded: number };
/** Where attempts of tasks with no `kind` are counted. */
export const NO_KIND = "(none)";

export type Reservation = { task_id: string; attempt: number; tier: BudgetReserve["tier"]; estimate_usd: number; reserved_at: number };

/** Everything the budget room holds in memory; persisted key by key. */
export type BudgetState = { day: DayTotals; month: MonthTotals; reservations: Record<string, Reservation> };

export const utcDate = (now: number): string => new Date(now).toISOString().slice(0, 10);
export const utcMonth = (now: number): string => new Date(now).toISOString().slice(0, 7);

const newDay = (now: number): DayTotals => ({ date: utcDate(now), spent_usd: 0, by_tier: {}, by_agent: {}, refused: 0 });
const newMonth = (now: number): MonthTotals => ({ month: utcMonth(now), spent_usd: 0, by_day: {} });
const usd = (value: number): string => `$${value.toFixed(2)}`;
const add = (record: Record<string, number>, key: string, value: number): Record<string, number> => ({ ...record, [key]: (record[key] ?? 0) + value });

export function emptyBudget(now: number): BudgetState {
  return { day: newDay(now), month: newMonth(now), reservations: {} };
}

/** Starts a new day or month when the clock has crossed a UTC boundary. Reservations carry over: their attempts still run. */
export function rollWindows(state: BudgetState, now: number): BudgetState {
  const day = state.day.date === utcDate(now) ? state.day : newDay(now);
  const month = state.month.month === utcMonth(now) ? state.month : { ...newMonth(now), previous_by_day: state.month.by_day };
  return day === state.day && month === state.month ? state : { ...state, day, month };
}

const reservationKey = (taskId: string, attempt: number): string => `${taskId}:${attempt}`;

export function reservedUsd(state: BudgetState): number {
  return Object.values(state.reservations).reduce((sum, r) => sum + r.estimate_usd, 0);
}

/**
 * Reserves an attempt's estimate, or refuses it when spend + reservations + the estimate would pass
 * the daily halt. Because every dispatch reserves first and this check is atomic in the room, spend
 * can only pass the halt by how much real costs exceed their estimates. Idempotent per attempt.
 */
export function reserve(state: BudgetState, request: BudgetReserve, now: number, limits: BudgetLimits): { state: BudgetState; refused: ErrorBody | null } {
  const windows = rollWindows(state, now);
  const key = reservationKey(request.task_id, request.attempt);
  const held = windows.reservations[key];
  if (held !== undefined && held.tier === request.tier) return { state: windows, refused: null };
  // The reservation follows the tier that runs (issue 15): one made at another tier is replaced, and the new one is judged without it.
  const rolled = held === undefined ? windows : release(windows, request.task_id, request.attempt);
  const estimate = estimateAttemptUsd(request.tier, limits.estimate);
  const committed = rolled.day.spent_usd + reservedUsd(rolled);
  const overrun = overrunOpen(rolled.day, limits) ? rolled.day.overrun : undefined;
  if (overrun !== undefined || committed + estimate > limits.dailyHaltUsd) {
    const day: DayTotals = {
      ...rolled.day,
      refused: rolled.day.refused + 1,
      tripped_at: rolled.day.tripped_at ?? now,
      ...(overrun !== undefined ? {} : { refused_estimate_usd: estimate, refused_tier: request.tier }),
    };
    const reason = overrun !== undefined ? overrunReason(overrun) : haltReason(rolled, estimate, request.tier, limits);
    return {
      state: { ...rolled, day },
      refused: { code: "budget_halted", message: `budget halted: ${reason}. It clears at 00:00 UTC or when MESH_DAILY_HALT_USD is raised; running attempts go on.` },
    };
  }
  const reservation: Reservation = { task_id: request.task_id, attempt: request.attempt, tier: request.tier, estimate_usd: estimate, reserved_at: now };
  return { state: { ...rolled, reservations: { ...rolled.reservations, [key]: reservation } }, refused: null };
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
 * (by tier and agent) and the month, and the month's alert is raised the first time it is reached.
 * A cost past the attempt's reservation (its cap) opens the breaker at once: estimates that real
 * costs outrun cannot keep spend under the halt (issue 13).
 */
export function settle(state: BudgetState, stage: Omit<StageRecord, "ended_at">, now: number, limits: BudgetLimits): { state: BudgetState; entry: StageRecord; alertRaised: boolean } {
  const before = rollWindows(state, now);
  const reservation = before.reservations[reservationKey(stage.task_id, stage.attempt)];
  const rolled = release(before, stage.task_id, stage.attempt);
  const cost = stage.cost_usd;
  // A cent of slack: a CLI stops itself at its cap a little after passing it.
  const overrun = reservation !== undefined && cost > reservation.estimate_usd + 0.01
    ? { task_id: stage.task_id, attempt: stage.attempt, tier: stage.tier, cost_usd: cost, reserved_usd: reservation.estimate_usd, halt_usd: limits.dailyHaltUsd }
    : undefined;
  const day: DayTotals = {
    ...rolled.day,
    ...(overrun === undefined ? {} : { overrun, tripped_at: rolled.day.tripped_at ?? now }),
    spent_usd: rolled.day.spent_usd + cost,
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
  return { state: { ...rolled, day, month }, entry: { ...stage, ended_at: now }, alertRaised };
}

/** The status as tools and the API report it. */
export function budgetStatus(state: BudgetState, now: number, limits: BudgetLimits): BudgetStatus {
  const rolled = rollWindows(state, now);
  const reserved = reservedUsd(rolled);
  const committed = rolled.day.spent_usd + reserved;
  // Open once it tripped today while the refused estimate still would not fit, or after an overrun (a raised limit closes it).
  const haltOpen = rolled.day.tripped_at !== undefined && rolled.day.refused_estimate_usd !== undefined && committed + rolled.day.refused_estimate_usd > limits.dailyHaltUsd;
  const overrun = overrunOpen(rolled.day, limits) ? rolled.day.overrun : undefined;
  const open = haltOpen || overrun !== undefined;
  // Rebuilt from the facts and the settings in force, never a stored sentence: after a restart with a new halt it names the new one.
  const reason = overrun !== undefined ? overrunReason(overrun) : rolled.day.refused_estimate_usd !== undefined ? haltReason(rolled, rolled.day.refused_estimate_usd, rolled.day.refused_tier, limits) : undefined;
  return {
    now,
    day: { date: rolled.day.date, spent_usd: rolled.day.spent_usd, reserved_usd: reserved, halt_usd: limits.dailyHaltUsd, remaining_usd: Math.max(0, limits.dailyHaltUsd - committed) },
    month: { month: rolled.month.month, spent_usd: rolled.month.spent_usd, alert_usd: limits.monthlyAlertUsd, ...(rolled.month.alerted_at === undefined ? {} : { alerted_at: rolled.month.alerted_at }) },
    breaker: {
      state: open ? "open" : "closed",
      ...(rolled.day.tripped_at === undefined ? {} : { tripped_at: rolled.day.tripped_at }),
      ...(reason === undefined ? {} : { reason }),
      refused_today: rolled.day.refused,
    },
    by_tier: rolled.day.by_tier,
    by_agent: rolled.day.by_agent,
    by_day: Object.entries(rolled.month.by_day).map(([date, spent_usd]) => ({ date, spent_usd })).sort((a, b) => a.date.localeCompare(b.date)),
    last_30_days: lastDays(rolled.month, now, 30),
    by_kind: Object.fromEntries(Object.entries(rolled.month.by_kind ?? {}).map(([kind, t]) => [kind, { ...t, cost_per_success_usd: t.succeeded === 0 ? null : t.cost_usd / t.succeeded }])),
  };
}

const DAY_MS = 86_400_000;

/** The spend of each of the last `count` UTC days, oldest first, today last; days without spend are 0. */
function lastDays(month: MonthTotals, now: number, count: number): { date: string; spent_usd: number }[] {
  const spent = { ...month.previous_by_day, ...month.by_day };
  return Array.from({ length: count }, (_, i) => {
    const date = utcDate(now - (count - 1 - i) * DAY_MS);
    return { date, spent_usd: spent[date] ?? 0 };
  });
}

function addKind(byKind: Record<string, KindTotals>, kind: string, cost: number, succeeded: boolean): Record<string, KindTotals> {
  const was = byKind[kind] ?? { cost_usd: 0, attempts: 0, succeeded: 0 };
  return { ...byKind, [kind]: { cost_usd: was.cost_usd + cost, attempts: was.attempts + 1, succeeded: was.succeeded + (succeeded ? 1 : 0) } };
}

/**
 * Drops reservations older than `ttlMs`: an attempt that never settled (its agent and room both
 * lost track of it) must not hold headroom for ever. Real attempts end long before (executor timeouts).
 */
export function expireReservations(state: BudgetState, now: number, ttlMs: number): BudgetState {
  const kept = Object.entries(state.reservations).filter(([, r]) => now - r.reserved_at <= ttlMs);
  return kept.length === Object.keys(state.reservations).length ? state : { ...state, reservations: Object.fromEntries(kept) };
}

/** An overrun keeps the breaker open until the halt is raised past the one in force when it happened. */
function overrunOpen(day: DayTotals, limits: BudgetLimits): boolean {
  return day.overrun !== undefined && limits.dailyHaltUsd <= day.overrun.halt_usd;
}

function overrunReason(overrun: NonNullable<DayTotals["overrun"]>): string {
  return `attempt ${overrun.attempt} of task ${overrun.task_id} (${overrun.tier}) cost ${usd(overrun.cost_usd)}, past its reservation of ${usd(overrun.reserved_usd)}: estimates no longer bound spend; raise MESH_DAILY_HALT_USD above ${usd(overrun.halt_usd)} or the estimates (MESH_ESTIMATE_*_TOKENS) to go on today`;
}

function haltReason(state: BudgetState, estimate: number, tier: BudgetReserve["tier"] | undefined, limits: BudgetLimits): string {
  return `today's spend ${usd(state.day.spent_usd)} + reserved ${usd(reservedUsd(state))} + ${tier === undefined ? "an" : `a ${tier}`} attempt's estimate ${usd(estimate)} would pass the daily halt of ${usd(limits.dailyHaltUsd)}`;
}

/** Counts these reservations' age from now: their attempts still wait or run (issue 13). */
export function renewReservations(state: BudgetState, live: readonly Reservation[], now: number): BudgetState {
  if (live.length === 0) return state;
  const reservations = { ...state.reservations };
  for (const r of live) {
    const key = reservationKey(r.task_id, r.attempt);
    if (reservations[key] !== undefined) reservations[key] = { ...r, reserved_at: now };
  }
  return { ...state, reservations };
}
