import type { BudgetStatus } from "../../protocol/index.ts";
import { type BudgetLimits, type BudgetState, type MonthTotals, rollWindows, utcDate } from "./budget-book.ts";
import { fullNow, fullReason, haltedNow, haltReason, reservedUsd } from "./budget-breaker.ts";
import { estimatesOf } from "./learned-estimates.ts";

const DAY_MS = 86_400_000;

/** The status as tools, the API and the dashboard report it. */
export function budgetStatus(state: BudgetState, now: number, limits: BudgetLimits): BudgetStatus {
  const rolled = rollWindows(state, now);
  const reserved = reservedUsd(rolled);
  const committed = rolled.day.spent_usd + reserved;
  const halted = haltedNow(rolled, limits);
  const full = fullNow(rolled, limits);
  // Rebuilt from the facts and the settings in force, never a stored sentence.
  const reason = halted
    ? haltReason(rolled, limits)
    : full || rolled.day.refused_estimate_usd !== undefined
      ? fullReason(rolled, limits)
      : undefined;
  const { day, month } = rolled;
  return {
    now,
    day: {
      date: day.date,
      spent_usd: day.spent_usd,
      reserved_usd: reserved,
      halt_usd: limits.dailyHaltUsd,
      remaining_usd: Math.max(0, limits.dailyHaltUsd - committed),
    },
    month: {
      month: month.month,
      spent_usd: month.spent_usd,
      alert_usd: limits.monthlyAlertUsd,
      ...(month.alerted_at === undefined ? {} : { alerted_at: month.alerted_at }),
    },
    breaker: {
      state: halted || full ? "open" : "closed",
      ...(day.tripped_at === undefined ? {} : { tripped_at: day.tripped_at }),
      ...(reason === undefined ? {} : { reason }),
      refused_today: day.refused,
      ...(day.halted_at === undefined ? {} : { halted_at: day.halted_at }),
    },
    by_tier: day.by_tier,
    by_agent: day.by_agent,
    by_day: Object.entries(month.by_day)
      .map(([date, spent_usd]) => ({ date, spent_usd }))
      .sort((a, b) => a.date.localeCompare(b.date)),
    last_30_days: lastDays(month, now, 30),
    by_kind: Object.fromEntries(
      Object.entries(month.by_kind ?? {}).map(([kind, t]) => [
        kind,
        { ...t, cost_per_success_usd: t.succeeded === 0 ? null : t.cost_usd / t.succeeded },
      ]),
    ),
    estimates: estimatesOf(rolled.learned, limits.estimate),
  };
}

/** The spend of each of the last `count` UTC days, oldest first, today last; days without spend are 0. */
function lastDays(month: MonthTotals, now: number, count: number): { date: string; spent_usd: number }[] {
  const spent = { ...month.previous_by_day, ...month.by_day };
  return Array.from({ length: count }, (_, i) => {
    const date = utcDate(now - (count - 1 - i) * DAY_MS);
    return { date, spent_usd: spent[date] ?? 0 };
  });
}
