import { DEFAULT_ATTEMPT_TOKEN_ESTIMATE } from "../../protocol/index.ts";
import type { BudgetLimits } from "./budget-book.ts";

/** A non-negative number setting, or its default when unset or not a number. */
export function positiveSetting(value: unknown, fallback: number): number {
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 && value !== undefined && value !== "" ? number : fallback;
}

/**
 * The limits in force, read from the server's settings on every use, so raising one takes effect at
 * once. The budget room checks against them; task rooms read the same token estimate when they judge
 * whether a new attempt fits under a task's `max_cost_usd` (docs/budget.md).
 */
export function budgetLimitsFrom(env: Record<string, unknown>): BudgetLimits {
  return {
    dailyHaltUsd: positiveSetting(env.MESH_DAILY_HALT_USD, 20),
    monthlyAlertUsd: positiveSetting(env.MESH_MONTHLY_ALERT_USD, 80),
    estimate: {
      input: positiveSetting(env.MESH_ESTIMATE_INPUT_TOKENS, DEFAULT_ATTEMPT_TOKEN_ESTIMATE.input),
      output: positiveSetting(env.MESH_ESTIMATE_OUTPUT_TOKENS, DEFAULT_ATTEMPT_TOKEN_ESTIMATE.output),
    },
  };
}
