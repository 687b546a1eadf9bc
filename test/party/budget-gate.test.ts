import { describe, expect, it } from "vitest";
import {
  type BudgetLimits,
  type BudgetState,
  budgetStatus,
  emptyBudget,
  haltNotices,
  reserve,
  settle,
  start,
} from "../../party/budget-room/budget-book.ts";
import { estimateOf, estimatesOf, learnCost, p90 } from "../../party/budget-room/learned-estimates.ts";
import { BudgetDayRecord, type BudgetStart, estimateAttemptUsd, type StageRecord } from "../../protocol/index.ts";

// The start gate, learned estimates and the breaker (docs/budget.md), as pure functions of the budget's state.

const limits: BudgetLimits = { dailyHaltUsd: 2, monthlyAlertUsd: 100, estimate: { input: 100_000, output: 10_000 } };
const SONNET = estimateAttemptUsd("sonnet", limits.estimate); // $0.45
const reserveAll = (ids: string[], state = emptyBudget(0)): BudgetState =>
  ids.reduce(
    (s, id) => reserve(s, { type: "budget.reserve", task_id: id, attempt: 1, tier: "sonnet" }, 1, limits).state,
    state,
  );
const ask = (task: string, executor = "claude"): BudgetStart => ({
  type: "budget.start",
  task_id: task,
  attempt: 1,
  tier: "sonnet",
  executor,
});
const stage = (task: string, cost: number, extra: Partial<StageRecord> = {}): Omit<StageRecord, "ended_at"> => ({
  task_id: task,
  attempt: 1,
  tier: "sonnet",
  agent: "vm-1",
  executor: "claude",
  tokens: { input: 1, output: 1 },
  cost_usd: cost,
  latency_ms: 1,
  outcome: "succeeded",
  ...extra,
});

describe("the start gate", () => {
  it("lets a reserved attempt start with what the halt leaves it, marks it started, and grants the same when asked again", () => {
    const state = reserveAll(["T1", "T2", "T3", "T4"]);
    const first = start(state, ask("T1"), 10, limits);
    expect(first.outcome).toEqual({
      ok: true,
      value: { cap_usd: expect.closeTo(2 - 3 * SONNET, 10), estimate_usd: SONNET },
    });
    expect(first.state.reservations["T1:1"]).toMatchObject({
      started_at: 10,
      executor: "claude",
      estimate_usd: SONNET,
    });
    const again = start(first.state, ask("T1"), 20, limits);
    expect(again.outcome).toEqual(first.outcome);
    expect(again.state.reservations).toEqual(first.state.reservations);
  });

  it("refuses a start whose learned estimate no longer fits (the R4 case): the breaker halts, the reservation goes, queued ones are told", () => {
    let state = reserveAll(["T1", "T2", "T3", "T4"]);
    state = start(state, ask("T1"), 10, limits).state;
    // Its cost came only at its end: $1.50 against $0.45. Spend stays under the halt, so nothing halts yet.
    const settled = settle(state, stage("T1", 1.5), 20, limits).state;
    expect(budgetStatus(settled, 21, limits).breaker.state).toBe("closed");
    const refused = start(settled, ask("T2"), 30, limits);
    expect(refused.outcome.ok).toBe(false);
    if (refused.outcome.ok) return;
    expect(refused.outcome.error.code).toBe("budget_halted");
    expect(refused.outcome.error.message).toContain("$1.5000");
    expect(refused.outcome.error.message).toContain("MESH_DAILY_HALT_USD");
    expect(refused.state.reservations["T2:1"]).toBeUndefined();
    const status = budgetStatus(refused.state, 31, limits);
    expect(status.breaker).toMatchObject({ state: "open", halted_at: 30, refused_today: 1 });
    // The queued attempts' rooms hear of it, once.
    expect(haltNotices(settled, refused.state, 31, limits).map((n) => n.task_id)).toEqual(["T3", "T4"]);
    expect(haltNotices(refused.state, refused.state, 32, limits)).toEqual([]);
    // Even if a notice is lost, no attempt starts while it is halted.
    expect(start(refused.state, ask("T3"), 40, limits).outcome).toMatchObject({
      ok: false,
      error: { code: "budget_halted" },
    });
  });

  it("refuses every start once spend reached the halt, and lets them start again when the halt is raised", () => {
    let state = reserveAll(["T1", "T2"]);
    state = start(state, ask("T1"), 10, limits).state;
    state = settle(state, stage("T1", 2.5), 20, limits).state;
    expect(budgetStatus(state, 21, limits).breaker).toMatchObject({ state: "open", halted_at: 20 });
    expect(start(state, ask("T2"), 30, limits).outcome).toMatchObject({ ok: false, error: { code: "budget_halted" } });
    const raised = start(state, ask("T2"), 30, { ...limits, dailyHaltUsd: 10 });
    expect(raised.outcome).toMatchObject({ ok: true, value: { estimate_usd: 2.5, cap_usd: 10 - 2.5 } });
  });

  it("does not refuse a reserved attempt because a new task was refused for lack of room (the admission breaker)", () => {
    const state = reserveAll(["T1", "T2", "T3", "T4", "T5"]);
    expect(budgetStatus(state, 2, limits).breaker).toMatchObject({ state: "open", refused_today: 1 });
    expect(budgetStatus(state, 2, limits).breaker.halted_at).toBeUndefined();
    expect(start(state, ask("T1"), 3, limits).outcome.ok).toBe(true);
  });
});

describe("learned estimates", () => {
  it("takes the 90th percentile of the last 20 real costs", () => {
    let learned = {};
    for (let i = 1; i <= 25; i += 1) learned = learnCost(learned, stage(`T${i}`, i / 100));
    // The last 20 are 0.06 … 0.25; by nearest rank the 18th smallest is 0.23.
    expect(estimateOf(learned, "sonnet", "claude", limits.estimate)).toEqual({
      tier: "sonnet",
      executor: "claude",
      estimate_usd: 0.23,
      samples: 20,
      source: "ledger",
    });
    expect(p90([0.5])).toBe(0.5);
    expect(p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(9);
  });

  it("falls back to the tier's costs for an executor it has not seen, then to the rates", () => {
    const learned = learnCost({}, stage("T", 0.8, { executor: "node" }));
    expect(estimateOf(learned, "sonnet", "claude", limits.estimate)).toEqual({
      tier: "sonnet",
      estimate_usd: 0.8,
      samples: 1,
      source: "ledger",
    });
    expect(estimateOf(learned, "sonnet", undefined, limits.estimate)).toMatchObject({
      estimate_usd: 0.8,
      source: "ledger",
    });
    expect(estimateOf(learned, "opus", "claude", limits.estimate)).toEqual({
      tier: "opus",
      estimate_usd: estimateAttemptUsd("opus", limits.estimate),
      samples: 0,
      source: "rates",
    });
    expect(estimatesOf(learned, limits.estimate).map((e) => `${e.tier}/${e.executor ?? "*"}/${e.source}`)).toEqual([
      "deepseek/*/rates",
      "gemini-flash/*/rates",
      "gemini-pro/*/rates",
      "codex/*/rates",
      "sonnet/*/ledger",
      "opus/*/rates",
      "sonnet/node/ledger",
    ]);
  });

  it("learns only from attempts that ran and reported their cost: not from cancelled, lost, never-dispatched or text ones", () => {
    let learned = {};
    learned = learnCost(learned, stage("A", 0.3, { outcome: "cancelled", failure_class: "cancelled" }));
    learned = learnCost(learned, stage("B", 0, { outcome: "failed", failure_class: "agent_lost" }));
    learned = learnCost(learned, stage("C", 0, { agent: null, outcome: "failed", failure_class: "no_agent" }));
    // A text executor reports neither tokens nor cost: unknown, not free.
    learned = learnCost(learned, stage("E", 0, { tokens: { input: 0, output: 0 } }));
    expect(learned).toEqual({});
    expect(learnCost(learned, stage("D", 0.2, { outcome: "failed", failure_class: "test_fail" }))).toEqual({
      sonnet: [0.2],
      "sonnet claude": [0.2],
    });
  });

  it("reserves a new task at its tier's learned estimate", () => {
    const state = settle(emptyBudget(0), stage("T0", 1.5), 1, limits).state;
    expect(
      reserve(state, { type: "budget.reserve", task_id: "T1", attempt: 1, tier: "sonnet" }, 2, limits).refused?.message,
    ).toContain("$1.5000");
    expect(
      budgetStatus(state, 3, limits).estimates?.find((e) => e.tier === "sonnet" && e.executor === undefined),
    ).toMatchObject({ estimate_usd: 1.5, samples: 1, source: "ledger" });
  });
});

describe("a day stored by an earlier build", () => {
  it("still reads when it carries an overrun, which no longer opens the breaker", () => {
    const stored = {
      date: "2026-11-22",
      spent_usd: 0.9,
      by_tier: { sonnet: 0.9 },
      by_agent: { a: 0.9 },
      refused: 0,
      tripped_at: 5,
      overrun: { task_id: "T", attempt: 1, tier: "sonnet", cost_usd: 0.9, reserved_usd: 0.45, halt_usd: 4 },
    };
    const day = BudgetDayRecord.parse(stored);
    expect(day).not.toHaveProperty("overrun");
    const state: BudgetState = { ...emptyBudget(Date.parse("2026-11-22T12:00:00Z")), day };
    expect(budgetStatus(state, Date.parse("2026-11-22T12:00:00Z"), { ...limits, dailyHaltUsd: 4 }).breaker.state).toBe(
      "closed",
    );
  });
});

describe("a start refused only for lack of room beside queued attempts", () => {
  it("refuses that start but does not halt: a queued attempt that fits still starts", () => {
    let state = reserveAll(["T1", "T2", "T3", "T4"]);
    state = start(state, ask("T1"), 10, limits).state;
    // A slight overrun: $0.60 against $0.45. T2's start at $0.60 does not fit beside T3 and T4's $0.90.
    state = settle(state, stage("T1", 0.6), 20, limits).state;
    const refused = start(state, ask("T2"), 30, limits);
    expect(refused.outcome).toMatchObject({ ok: false, error: { code: "budget_halted" } });
    expect(budgetStatus(refused.state, 31, limits).breaker.halted_at).toBeUndefined();
    expect(haltNotices(state, refused.state, 31, limits)).toEqual([]);
    // T3 at $0.60 beside T4's $0.45 and $0.60 spent fits under $2.00.
    expect(start(refused.state, ask("T3"), 40, limits).outcome).toMatchObject({
      ok: true,
      value: { estimate_usd: 0.6 },
    });
  });
});
