import type { BudgetLimits, BudgetState } from "./budget-book.ts";

// The breaker's two states (docs/budget.md "The breaker"). Halted: today's spend reached the halt,
// or an admitted attempt's start was refused and its estimate still does not fit beside the spend
// and the attempts running; no attempt starts then. Full: a new reservation was refused and its
// estimate still does not fit; new tasks of that cost are refused, admitted ones still start.

/** Money in messages: four decimals, so a cap of $0.0168 never reads as $0.02. */
export const usd = (value: number): string => `$${value.toFixed(4)}`;

/** What every reservation holds: queued attempts' estimates and running ones'. */
export function reservedUsd(state: BudgetState): number {
  return Object.values(state.reservations).reduce((sum, r) => sum + r.estimate_usd, 0);
}

/** What the attempts the budget let start hold. */
export function startedUsd(state: BudgetState): number {
  return Object.values(state.reservations).reduce(
    (sum, r) => sum + (r.started_at === undefined ? 0 : r.estimate_usd),
    0,
  );
}

/**
 * No attempt starts: spend reached the halt, or a refused start's estimate still does not fit beside spend and running
 * attempts.
 */
export function haltedNow(state: BudgetState, limits: BudgetLimits): boolean {
  const { day } = state;
  if (day.spent_usd >= limits.dailyHaltUsd) return true;
  return (
    day.halt_estimate_usd !== undefined &&
    day.spent_usd + startedUsd(state) + day.halt_estimate_usd > limits.dailyHaltUsd
  );
}

/**
 * New reservations of the refused size are refused: its estimate still does not fit beside spend and every reservation.
 */
export function fullNow(state: BudgetState, limits: BudgetLimits): boolean {
  const { day } = state;
  return (
    day.refused_estimate_usd !== undefined &&
    day.spent_usd + reservedUsd(state) + day.refused_estimate_usd > limits.dailyHaltUsd
  );
}

/**
 * Why it is halted, rebuilt from the facts and the settings in force (after a restart with a new halt it names the new
 * one).
 */
export function haltReason(state: BudgetState, limits: BudgetLimits): string {
  const { day } = state;
  if (day.spent_usd >= limits.dailyHaltUsd || day.halt_estimate_usd === undefined)
    return `today's spend ${usd(day.spent_usd)} reached the daily halt of ${usd(limits.dailyHaltUsd)}`;
  const what = day.halt_tier === undefined ? "an attempt" : `a ${day.halt_tier} attempt`;
  return `${what} is estimated at ${usd(day.halt_estimate_usd)} from what such attempts cost; with today's spend ${usd(day.spent_usd)} and ${usd(startedUsd(state))} held by running attempts it would pass the daily halt of ${usd(limits.dailyHaltUsd)}`;
}

/** Why new reservations of the refused size are refused. */
export function fullReason(state: BudgetState, limits: BudgetLimits): string {
  const { day } = state;
  const what = day.refused_tier === undefined ? "an attempt's estimate" : `a ${day.refused_tier} attempt's estimate`;
  return `today's spend ${usd(day.spent_usd)} + reserved ${usd(reservedUsd(state))} + ${what} ${usd(day.refused_estimate_usd ?? 0)} would pass the daily halt of ${usd(limits.dailyHaltUsd)}`;
}
