// Issue 13 (3), "a budget that holds": with a $4.00 halt and a CLI whose runs cost $0.90 against a
// $0.45 estimate (spend reached $5.60 before), every attempt is capped at its reservation by the agent,
// the first settle past a reservation opens the breaker, and spend ends at or under halt + one reservation.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimateAttemptUsd, type BudgetStatus, type TaskView } from "../../protocol/index.ts";
import { FIXTURES, startAgent, startMesh, waitFor, type Mesh, type TestAgent } from "./mesh-harness.ts";

const HALT_USD = 4;
const RESERVATION_USD = estimateAttemptUsd("sonnet");
const TASKS = 12;
let mesh: Mesh;
const agents: TestAgent[] = [];

// The stand-in CLI replays a claude stream-json run of six $0.15 messages ($0.90 in all), 300 ms apart.
const costly = { command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"], format: "claude-stream-json" as const, timeout_s: 60 };

beforeAll(async () => {
  mesh = await startMesh({ MESH_DAILY_HALT_USD: String(HALT_USD), MESH_MONTHLY_ALERT_USD: "1000" });
  for (const name of ["vm-cost-a", "vm-cost-b"]) agents.push(await startAgent(mesh, name, { executors: { sonnet: costly } }, { capacity: 2 }));
}, 60_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
});

const budget = async (): Promise<BudgetStatus> => (await mesh.api<BudgetStatus>("/api/budget")).body;

describe("a budget that holds", () => {
  it(`keeps spend at or under the halt plus one reservation when real costs are twice the estimate`, async () => {
    expect(RESERVATION_USD).toBeCloseTo(0.45, 5);
    const created: string[] = [];
    let refused = 0;
    // Tasks keep coming, as an orchestrator's would, until the breaker refuses them.
    for (let i = 0; i < TASKS; i += 1) {
      const response = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "play=claude-costly.jsonl pause=300", executor: "sonnet" } });
      if (response.status === 201) created.push(response.body.task_id);
      else refused += 1;
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    const ended = await Promise.all(created.map((id) => mesh.finished(id, 90_000)));
    const status = await budget();
    console.log(`budget cap: ${created.length} task(s) ran, ${refused} refused; spent $${status.day.spent_usd.toFixed(2)} against a halt of $${HALT_USD.toFixed(2)} (+ one reservation $${RESERVATION_USD.toFixed(2)}); breaker ${status.breaker.state}: ${status.breaker.reason ?? "-"}`);
    expect(status.day.spent_usd).toBeLessThanOrEqual(HALT_USD + RESERVATION_USD);
    expect(status.day.reserved_usd).toBe(0);
    // Each attempt was stopped at its cap as budget_exceeded, an infrastructure class: no escalation.
    for (const task of ended) {
      expect(task.status).toBe("failed");
      expect(task.attempts.map((a) => a.failure_class)).toEqual(["budget_exceeded"]);
      expect(task.attempts[0]?.cost_usd).toBeGreaterThan(RESERVATION_USD);
      expect(task.attempts[0]?.cost_usd).toBeLessThan(0.9);
    }
    // The first settle past a reservation opened the breaker, and it says why with the halt in force.
    expect(status.breaker.state).toBe("open");
    expect(status.breaker.reason).toContain("past its reservation of $0.45");
    expect(refused).toBeGreaterThan(0);
    const log = await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${created[0]}/logs`);
    expect(log.body.lines.map((line) => line.text).join("\n")).toMatch(/past its cap of \$0\.45/);
  }, 180_000);

  it("refuses a new task while the breaker is open after the overrun, naming it", async () => {
    const response = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "play=claude-costly.jsonl", executor: "deepseek" } });
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: { code: "budget_halted" } });
    expect((response.body as { error?: { message?: string } }).error?.message).toContain("past its reservation");
    await waitFor("no reservation left", async () => (await budget()).day.reserved_usd === 0 || null, 5_000);
  });
});
