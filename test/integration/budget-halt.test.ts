// The daily halt holds when a CLI tells its cost only at its end (docs/budget.md). A claude
// stream-json CLI that reports $1.50 in its final `result` event, against a sonnet estimate of $0.45;
// a $2.00 halt; ten tasks posted at once; one agent of capacity 1, then of capacity 3. Spend may pass
// the halt only by what attempts already running when it was reached cost; no attempt starts after
// the breaker halted; a CLI that succeeded keeps its result (`over_cap`); queued tasks fail
// `budget_halted` and give their reservations back. Then: one overrun below the halt stops nothing.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BudgetStatus, StageRecord, TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const HALT_USD = 2;
const TASKS = 10;
const endCost = {
  command: [process.execPath, join(FIXTURES, "budget-end-cost-cli.mjs"), "{prompt}"],
  format: "claude-stream-json" as const,
  timeout_s: 60,
};

let mesh: Mesh | undefined;
let agent: TestAgent | undefined;

afterEach(async () => {
  await agent?.stop();
  await mesh?.stop();
  agent = undefined;
  mesh = undefined;
});

const budgetOf = async (m: Mesh): Promise<BudgetStatus> => (await m.api<BudgetStatus>("/api/budget")).body;
const stagesOf = async (m: Mesh): Promise<StageRecord[]> =>
  (await m.api<{ stages: StageRecord[] }>("/api/budget/stages")).body.stages;

/**
 * When the ledger's running total first reached the halt, and the stages settled from then on (their attempts ran at
 * that moment).
 */
function haltReached(stages: readonly StageRecord[]): { at: number; settledFrom: StageRecord[] } | undefined {
  const ordered = [...stages].sort((a, b) => a.ended_at - b.ended_at);
  let spent = 0;
  for (const [i, stage] of ordered.entries()) {
    spent += stage.cost_usd;
    if (spent >= HALT_USD) return { at: stage.ended_at, settledFrom: ordered.slice(i) };
  }
  return undefined;
}

async function runScenario(capacity: number): Promise<void> {
  const m = (mesh = await startMesh({ MESH_DAILY_HALT_USD: String(HALT_USD), MESH_MONTHLY_ALERT_USD: "1000" }));
  agent = await startAgent(m, `vm-halt-${capacity}`, { executors: { sonnet: endCost } }, { capacity });
  const responses = await Promise.all(
    Array.from({ length: TASKS }, () =>
      m.api<TaskView>("/api/tasks", {
        method: "POST",
        body: { instruction: "cost=1.50 pause=200", executor: "sonnet" },
      }),
    ),
  );
  const created = responses.filter((r) => r.status === 201).map((r) => r.body.task_id);
  expect(
    responses.filter((r) => r.status !== 201).every((r) => r.status === 503 && r.body.error?.code === "budget_halted"),
  ).toBe(true);
  const tasks = await Promise.all(created.map((id) => m.finished(id, 90_000)));
  await waitFor(
    "every reservation given back",
    async () => (await budgetOf(m)).day.reserved_usd === 0 || null,
    15_000,
  ).catch(() => undefined);
  const status = await budgetOf(m);
  const stages = await stagesOf(m);
  const ran = tasks.flatMap((t) => t.attempts.filter((a) => a.started_at !== undefined));
  const reached = haltReached(stages);
  const runningAtHalt = reached?.settledFrom.reduce((sum, s) => sum + s.cost_usd, 0) ?? 0;
  console.log(
    `budget halt, capacity ${capacity}: ${created.length} admitted, ${ran.length} ran; spent $${status.day.spent_usd.toFixed(2)} against a halt of $${HALT_USD.toFixed(2)}` +
      ` (+ $${runningAtHalt.toFixed(2)} running when it was reached); breaker ${status.breaker.state} (${status.breaker.reason ?? "-"}); statuses ${tasks.map((t) => `${t.status}/${t.error?.code ?? "-"}`).join(", ")}`,
  );

  // The guarantee: spend past the halt comes only from attempts already running when it was reached.
  expect(status.day.spent_usd).toBeLessThanOrEqual(HALT_USD + runningAtHalt + 1e-9);
  const halted = status.breaker.halted_at;
  expect(halted).toBeTypeOf("number");
  for (const attempt of ran) {
    expect(attempt.started_at).toBeLessThan(halted ?? 0);
    if (reached !== undefined) expect(attempt.started_at).toBeLessThan(reached.at);
  }
  // Paid-for work is kept: every CLI that ran succeeded, past its cap, and its task succeeded.
  expect(ran.length).toBeGreaterThan(0);
  for (const attempt of ran)
    expect([attempt.status, attempt.over_cap, attempt.cost_usd]).toEqual(["succeeded", true, 1.5]);
  for (const task of tasks) {
    if (task.attempts.some((a) => a.started_at !== undefined)) expect(task.status).toBe("succeeded");
    else expect([task.status, task.error?.code]).toEqual(["failed", "budget_halted"]);
  }
  // Some admitted tasks never ran: the breaker failed them, and they said why.
  const stopped = tasks.filter((t) => t.status === "failed");
  expect(stopped.length).toBeGreaterThan(0);
  expect(stopped[0]?.error?.message).toMatch(/MESH_DAILY_HALT_USD/);
  expect(status.day.reserved_usd).toBe(0);
  expect(status.breaker.state).toBe("open");
  // What a start sees now comes from the ledger: sonnet on this CLI costs $1.50.
  expect(status.estimates?.find((e) => e.tier === "sonnet" && e.executor === undefined)).toMatchObject({
    estimate_usd: 1.5,
    source: "ledger",
  });
}

describe("the daily halt with costs known only at the end", () => {
  it("holds with one agent of capacity 1", () => runScenario(1), 180_000);
  it("holds with one agent of capacity 3", () => runScenario(3), 180_000);

  it("lets work go on after one overrun below the halt", async () => {
    const m = (mesh = await startMesh({ MESH_DAILY_HALT_USD: String(HALT_USD), MESH_MONTHLY_ALERT_USD: "1000" }));
    agent = await startAgent(m, "vm-overrun", { executors: { sonnet: endCost } });
    const first = await m.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "cost=0.60 pause=50", executor: "sonnet" },
    });
    expect(first.status).toBe(201);
    const done = await m.finished(first.body.task_id, 60_000);
    expect([done.status, done.attempts[0]?.cost_usd, done.attempts[0]?.over_cap]).toEqual([
      "succeeded",
      0.6,
      undefined,
    ]);
    const after = await budgetOf(m);
    expect(after.breaker.state).toBe("closed");
    expect(after.day.spent_usd).toBeCloseTo(0.6, 10);
    const next = await m.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "cost=0.10 pause=50", executor: "sonnet" },
    });
    expect(next.status).toBe(201);
    expect((await m.finished(next.body.task_id, 60_000)).status).toBe("succeeded");
    expect((await budgetOf(m)).breaker.state).toBe("closed");
  }, 120_000);
});
