// The cost circuit breaker under concurrency, its ledger, and its totals across a restart, on a real server.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BudgetStatus, estimateAttemptUsd, type StageRecord, type TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const HALT_USD = 5;
const CONCURRENT = 100;
let mesh: Mesh;
let agent: TestAgent | undefined;

beforeAll(async () => {
  mesh = await startMesh({ MESH_DAILY_HALT_USD: String(HALT_USD), MESH_MONTHLY_ALERT_USD: "1000" });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

const budget = async (): Promise<BudgetStatus> => (await mesh.api<BudgetStatus>("/api/budget")).body;
const stages = async (): Promise<StageRecord[]> =>
  (await mesh.api<{ stages: StageRecord[] }>("/api/budget/stages")).body.stages;

describe("the budget breaker", () => {
  const expectedAccepted = Math.floor(HALT_USD / estimateAttemptUsd("sonnet"));
  let accepted: string[] = [];

  it("takes 100 concurrent tasks near the limit: trips once, refuses the rest with budget_halted, never reserves past the halt", async () => {
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: `task ${i}`, executor: "sonnet" } }),
      ),
    );
    accepted = responses.filter((r) => r.status === 201).map((r) => r.body.task_id);
    const refused = responses.filter((r) => r.status !== 201);
    expect(accepted).toHaveLength(expectedAccepted);
    expect(refused.every((r) => r.status === 503 && r.body.error?.code === "budget_halted")).toBe(true);
    expect(refused[0]?.body.error?.message).toMatch(/MESH_DAILY_HALT_USD/);
    const status = await budget();
    expect(status.breaker).toMatchObject({ state: "open", refused_today: CONCURRENT - expectedAccepted });
    expect(status.breaker.tripped_at).toBeTypeOf("number");
    expect(status.day.spent_usd + status.day.reserved_usd).toBeLessThanOrEqual(HALT_USD);
  });

  it("creates and lists nothing for a refused task", async () => {
    const listed = (await mesh.api<{ tasks: Array<{ task_id: string }> }>("/api/tasks?limit=500")).body.tasks.map(
      (t) => t.task_id,
    );
    expect(listed.sort()).toEqual([...accepted].sort());
  });

  it("dispatches only the accepted tasks, settles each at its real cost, and the ledger's sum equals the totals", async () => {
    agent = await startAgent(
      mesh,
      "vm-budget",
      {
        executors: {
          sonnet: {
            command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "3"],
            format: "text",
            timeout_s: 60,
          },
        },
      },
      { capacity: 4 },
    );
    await waitFor(
      "every accepted task to finish",
      async () => {
        const tasks = await Promise.all(accepted.map((id) => mesh.task(id)));
        return tasks.every((t) => t.status === "succeeded");
      },
      60_000,
    );
    const ledger = await stages();
    expect(ledger.map((s) => s.task_id).sort()).toEqual([...accepted].sort());
    expect(ledger.every((s) => s.agent === "vm-budget" && s.tier === "sonnet" && s.outcome === "succeeded")).toBe(true);
    const status = await budget();
    expect(status.day.reserved_usd).toBe(0);
    expect(status.day.spent_usd).toBeCloseTo(
      ledger.reduce((sum, s) => sum + s.cost_usd, 0),
      10,
    );
    expect(status.by_agent["vm-budget"] ?? 0).toBeCloseTo(status.day.spent_usd, 10);
    expect(status.by_tier.sonnet ?? 0).toBeCloseTo(status.day.spent_usd, 10);
  });

  it("keeps totals, the breaker's record and the ledger across a restart", async () => {
    const before = await budget();
    const ledgerBefore = await stages();
    await mesh.stopServer();
    await mesh.startServer();
    const after = await budget();
    expect(after.day).toEqual(before.day);
    expect(after.month).toEqual(before.month);
    expect(after.breaker.refused_today).toBe(before.breaker.refused_today);
    expect(after.by_agent).toEqual(before.by_agent);
    expect(await stages()).toEqual(ledgerBefore);
  });

  it("refuses a task while nothing fits, and frees the reservation of a task that was cancelled before it ran", async () => {
    await agent?.stop();
    agent = undefined;
    // With the earlier reservations settled, new sonnet tasks fit again until the halt.
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "queued", executor: "sonnet" },
    });
    expect(created.status).toBe(201);
    const reservedBefore = (await budget()).day.reserved_usd;
    expect(reservedBefore).toBeGreaterThan(0);
    await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
    const after = await budget();
    expect(after.day.reserved_usd).toBeCloseTo(reservedBefore - estimateAttemptUsd("sonnet"), 10);
    expect(
      (await stages()).some((s) => s.task_id === created.body.task_id && s.outcome === "cancelled" && s.agent === null),
    ).toBe(true);
  });
});
