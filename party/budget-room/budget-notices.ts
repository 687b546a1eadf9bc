import type { NotificationEvent } from "../../protocol/index.ts";
import type { BudgetLimits, BudgetState } from "./budget-book.ts";
import { haltedNow, haltReason } from "./budget-breaker.ts";

/**
 * The webhook events a change of the budget makes (docs/notifications.md): `budget.alert` when the
 * month's spend first reaches the alert (once a month: `alerted_at` is set then), `budget.halted`
 * when the breaker goes from letting attempts start to halted. Ids name the month, or the day and
 * the moment of the halt (a raised halt that is reached again the same day is a new event).
 */
export function budgetNotices(
  previous: BudgetState,
  next: BudgetState,
  limits: BudgetLimits,
  now: number,
): NotificationEvent[] {
  const events: NotificationEvent[] = [];
  if (
    next.month.alerted_at !== undefined &&
    (previous.month.alerted_at === undefined || previous.month.month !== next.month.month)
  ) {
    events.push({
      id: `budget.alert:${next.month.month}`,
      type: "budget.alert",
      at: next.month.alerted_at,
      reason: `this month's spend $${next.month.spent_usd.toFixed(2)} reached the monthly alert of $${limits.monthlyAlertUsd.toFixed(2)}`,
      budget: { window: "month", spent_usd: next.month.spent_usd, limit_usd: limits.monthlyAlertUsd },
    });
  }
  const wasHalted = previous.day.date === next.day.date && haltedNow(previous, limits);
  if (!wasHalted && haltedNow(next, limits)) {
    events.push({
      id: `budget.halted:${next.day.date}:${now}`,
      type: "budget.halted",
      at: now,
      reason: `no attempt starts: ${haltReason(next, limits)}; it clears at 00:00 UTC or when MESH_DAILY_HALT_USD is raised`,
      budget: { window: "day", spent_usd: next.day.spent_usd, limit_usd: limits.dailyHaltUsd },
    });
  }
  return events;
}
