import { describe, expect, it } from "vitest";
import {
  type BudgetLimits,
  type BudgetState,
  budgetStatus,
  emptyBudget,
  expireReservations,
  release,
  reserve,
  settle,
} from "../../party/budget-room/budget-book.ts";
import { type BudgetReserve, estimateAttemptUsd } from "../../protocol/index.ts";

const limits: BudgetLimits = { dailyHaltUsd: 2, monthlyAlertUsd: 5, estimate: { input: 100_000, output: 10_000 } };
const at = (iso: string): number => Date.parse(iso);
const ask = (task: string, tier: BudgetReserve["tier"] = "sonnet", attempt = 1): BudgetReserve => ({
  type: "budget.reserve",
  task_id: task,
  attempt,
  tier,
});
const stage = (task: string, cost: number, agent = "vm-1", attempt = 1) => ({
  task_id: task,
  attempt,
  tier: "sonnet" as const,
  agent,
  tokens: { input: 1000, output: 100 },
  cost_usd: cost,
  latency_ms: 1000,
  outcome: "succeeded" as const,
});

describe("the budget book", () => {
  it("reserves estimates until the next one would pass the daily halt, then trips once", () => {
    const sonnet = estimateAttemptUsd("sonnet", limits.estimate); // $0.45
    let state: BudgetState = emptyBudget(at("2026-11-22T10:00:00Z"));
    let accepted = 0;
    const refusals: string[] = [];
    for (let i = 0; i < 10; i++) {
      const outcome = reserve(state, ask(`T${i}`), at("2026-11-22T10:00:00Z") + i, limits);
      state = outcome.state;
      if (outcome.refused === null) accepted++;
      else refusals.push(outcome.refused.code);
    }
    expect(accepted).toBe(Math.floor(limits.dailyHaltUsd / sonnet));
    expect(refusals.every((code) => code === "budget_halted")).toBe(true);
    const status = budgetStatus(state, at("2026-11-22T10:00:01Z"), limits);
    expect(status.breaker).toMatchObject({
      state: "open",
      tripped_at: at("2026-11-22T10:00:00Z") + accepted,
      refused_today: 10 - accepted,
    });
    expect(status.day.reserved_usd).toBeCloseTo(accepted * sonnet);
    expect(status.day.reserved_usd).toBeLessThanOrEqual(limits.dailyHaltUsd);
  });

  it("lets a cheaper tier through while a dearer one is refused, and reserves each attempt once", () => {
    let state = emptyBudget(0);
    for (let i = 0; i < 4; i++) state = reserve(state, ask(`S${i}`), 0, limits).state;
    expect(reserve(state, ask("S9"), 0, limits).refused?.code).toBe("budget_halted");
    expect(reserve(state, ask("D1", "deepseek"), 0, limits).refused).toBeNull();
    const again = reserve(state, ask("S0"), 0, limits);
    expect(again.refused).toBeNull();
    expect(again.state.reservations).toEqual(state.reservations);
  });

  it("settles at the real cost, by tier and agent, and frees the reservation", () => {
    let state = reserve(emptyBudget(0), ask("A"), 0, limits).state;
    state = reserve(state, ask("B"), 0, limits).state;
    state = settle(state, stage("A", 0.1234, "mac-1"), 10, limits).state;
    state = settle(state, stage("B", 0.2, "vm-1"), 11, limits).state;
    const status = budgetStatus(state, 12, limits);
    expect(status.day.spent_usd).toBeCloseTo(0.3234);
    expect(status.day.reserved_usd).toBe(0);
    expect(status.by_agent).toEqual({ "mac-1": 0.1234, "vm-1": 0.2 });
    expect(status.by_tier.sonnet).toBeCloseTo(0.3234);
    expect(release(state, "A", 1)).toBe(state);
  });

  it("starts a new day at 00:00 UTC: the halt clears, the month goes on", () => {
    let state = emptyBudget(at("2026-11-22T23:00:00Z"));
    state = settle(state, stage("A", 1.9), at("2026-11-22T23:30:00Z"), limits).state;
    const lateRefusal = reserve(state, ask("B"), at("2026-11-22T23:59:59Z"), limits);
    expect(lateRefusal.refused?.code).toBe("budget_halted");
    const nextDay = reserve(lateRefusal.state, ask("B"), at("2026-11-23T00:00:00Z"), limits);
    expect(nextDay.refused).toBeNull();
    const status = budgetStatus(nextDay.state, at("2026-11-23T00:00:01Z"), limits);
    expect(status.day).toMatchObject({ date: "2026-11-23", spent_usd: 0 });
    expect(status.breaker.state).toBe("closed");
    expect(status.month.spent_usd).toBeCloseTo(1.9);
    expect(status.by_day).toEqual([{ date: "2026-11-22", spent_usd: 1.9 }]);
  });

  it("keeps the last 30 days across a month's end, oldest first, days without spend at 0 (the dashboard's chart)", () => {
    let state = emptyBudget(at("2026-11-29T10:00:00Z"));
    state = settle(state, stage("A", 0.5), at("2026-11-29T10:00:00Z"), limits).state;
    state = settle(state, stage("B", 0.25), at("2026-12-02T10:00:00Z"), limits).state;
    const days = budgetStatus(state, at("2026-12-03T08:00:00Z"), limits).last_30_days;
    expect(days).toHaveLength(30);
    expect(days[0]?.date).toBe("2026-11-04");
    expect(days.at(-1)).toEqual({ date: "2026-12-03", spent_usd: 0 });
    expect(days.filter((day) => day.spent_usd > 0)).toEqual([
      { date: "2026-11-29", spent_usd: 0.5 },
      { date: "2026-12-02", spent_usd: 0.25 },
    ]);
    // The month's own days stay the month's.
    expect(budgetStatus(state, at("2026-12-03T08:00:00Z"), limits).by_day).toEqual([
      { date: "2026-12-02", spent_usd: 0.25 },
    ]);
  });

  it("raises the monthly alert once, keeps it for the month, and starts clean the next month", () => {
    let state = emptyBudget(at("2026-11-01T00:00:00Z"));
    const raised: boolean[] = [];
    for (const [i, day] of ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"].entries()) {
      const outcome = settle(state, stage(`T${i}`, 1.5), at(`${day}T12:00:00Z`), limits);
      state = outcome.state;
      raised.push(outcome.alertRaised);
    }
    expect(raised).toEqual([false, false, false, true]);
    expect(budgetStatus(state, at("2026-11-30T23:59:59Z"), limits).month.alerted_at).toBe(at("2026-11-04T12:00:00Z"));
    const december = budgetStatus(state, at("2026-12-01T00:00:00Z"), limits);
    expect(december.month).toMatchObject({ month: "2026-12", spent_usd: 0 });
    expect(december.month.alerted_at).toBeUndefined();
  });

  it("closes the breaker when the limit is raised", () => {
    let state = emptyBudget(0);
    for (let i = 0; i < 6; i++) state = reserve(state, ask(`T${i}`), 0, limits).state;
    expect(budgetStatus(state, 1, limits).breaker.state).toBe("open");
    expect(budgetStatus(state, 1, { ...limits, dailyHaltUsd: 10 }).breaker.state).toBe("closed");
  });

  it("expires reservations that were never settled, so a lost attempt cannot hold headroom for ever", () => {
    let state = reserve(emptyBudget(0), ask("old"), 0, limits).state;
    state = reserve(state, ask("new"), 5000, limits).state;
    const kept = expireReservations(state, 10_000, 6000);
    expect(Object.keys(kept.reservations)).toEqual(["new:1"]);
    expect(expireReservations(kept, 10_000, 6000)).toBe(kept);
  });
});

describe("a budget that holds", () => {
  const limits = { dailyHaltUsd: 4, monthlyAlertUsd: 80, estimate: { input: 100_000, output: 10_000 } };
  const stage = (attempt: number, cost: number) => ({
    task_id: "T",
    attempt,
    tier: "sonnet" as const,
    agent: "a",
    tokens: { input: 0, output: 0 },
    cost_usd: cost,
    latency_ms: 1,
    outcome: "succeeded" as const,
  });

  it("names the halt in force in its reason, not the one it tripped under, to four decimals", () => {
    let state = emptyBudget(0);
    for (let attempt = 1; attempt <= 8; attempt += 1)
      state = reserve(state, { type: "budget.reserve", task_id: "T", attempt, tier: "sonnet" }, attempt, limits).state;
    const refused = reserve(state, { type: "budget.reserve", task_id: "T", attempt: 9, tier: "sonnet" }, 9, limits);
    expect(refused.refused?.message).toContain("daily halt of $4.0000");
    // The same stored day read with a lower halt after a restart:
    const status = budgetStatus(refused.state, 10, { ...limits, dailyHaltUsd: 3.5 });
    expect(status.breaker.reason).toContain("daily halt of $3.5000");
    expect(status.breaker.reason).not.toContain("$4.0000");
  });

  it("counts an overrun below the halt toward spend and leaves the breaker closed", () => {
    let state = reserve(
      emptyBudget(0),
      { type: "budget.reserve", task_id: "T", attempt: 1, tier: "sonnet" },
      1,
      limits,
    ).state;
    state = settle(state, stage(1, 0.9), 2, limits).state;
    const status = budgetStatus(state, 3, limits);
    expect(status.breaker).toMatchObject({ state: "closed", refused_today: 0 });
    expect(status.breaker.halted_at).toBeUndefined();
    expect(status.day.spent_usd).toBeCloseTo(0.9);
    expect(
      reserve(state, { type: "budget.reserve", task_id: "U", attempt: 1, tier: "deepseek" }, 4, limits).refused,
    ).toBeNull();
  });

  it("opens the breaker when spend reaches the halt, and closes it when the halt is raised", () => {
    let state = emptyBudget(0);
    state = settle(state, stage(1, 3.99), 1, limits).state;
    expect(budgetStatus(state, 2, limits).breaker.state).toBe("closed");
    state = settle(state, stage(2, 0.01), 3, limits).state;
    const status = budgetStatus(state, 4, limits);
    expect(status.breaker).toMatchObject({ state: "open", halted_at: 3, tripped_at: 3 });
    expect(status.breaker.reason).toBe("today's spend $4.0000 reached the daily halt of $4.0000");
    expect(
      reserve(state, { type: "budget.reserve", task_id: "U", attempt: 1, tier: "deepseek" }, 5, limits).refused?.code,
    ).toBe("budget_halted");
    expect(budgetStatus(state, 6, { ...limits, dailyHaltUsd: 10 }).breaker.state).toBe("closed");
  });
});
