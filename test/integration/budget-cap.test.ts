// Caps (docs/budget.md): an attempt's cap is granted when it starts, as the lower of what the task's
// max_cost_usd leaves and its share of the daily halt. A CLI that streams its usage is stopped past it
// (`budget_exceeded`); one whose cost is known only at its end keeps its result (`over_cap`), and the
// task's max_cost_usd then stops further attempts. A task's cap is compared whatever the CLI's format.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BudgetStatus, TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent } from "./mesh-harness.ts";

const HALT_USD = 0.5;
let mesh: Mesh;
let agent: TestAgent;

// claude stream-json: six messages of $0.15 each ($0.90 in all), streamed as they come.
const claudeStreamed = {
  command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"],
  format: "claude-stream-json" as const,
  timeout_s: 60,
};
// codex jsonl on gpt-5.5: its usage comes with the turn's end ($0.0907 for the sample transcript).
const codex = {
  command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "-m", "gpt-5.5", "{prompt}"],
  format: "codex-jsonl" as const,
  timeout_s: 60,
};

beforeAll(async () => {
  // Small token estimates, so a $0.50 halt admits these tasks: the reservations are not what is tested here.
  mesh = await startMesh({
    MESH_DAILY_HALT_USD: String(HALT_USD),
    MESH_MONTHLY_ALERT_USD: "1000",
    MESH_ESTIMATE_INPUT_TOKENS: "10000",
    MESH_ESTIMATE_OUTPUT_TOKENS: "1000",
  });
  agent = await startAgent(mesh, "vm-caps", { executors: { sonnet: claudeStreamed, codex } });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

const budget = async (): Promise<BudgetStatus> => (await mesh.api<BudgetStatus>("/api/budget")).body;
const logOf = async (id: string): Promise<string> =>
  (await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${id}/logs`)).body.lines
    .map((line) => line.text)
    .join("\n");

describe("caps", () => {
  it("stops a codex-format run past its task's max_cost_usd from going further: one attempt, never a climb", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "play=codex-success.jsonl pause=20", executor: "codex", max_cost_usd: 0.03 },
    });
    expect(created.status).toBe(201);
    const done = await mesh.finished(created.body.task_id, 60_000);
    expect(done.attempts).toHaveLength(1);
    const [attempt] = done.attempts;
    expect(attempt?.cap_usd).toBe(0.03);
    expect(attempt?.cost_usd).toBeGreaterThan(0.03);
    // Known only at the turn's end: it kept its result (over_cap), or the agent stopped it there (budget_exceeded).
    if (done.status === "succeeded") expect(attempt?.over_cap).toBe(true);
    else expect(done.error?.code).toBe("budget_exceeded");
    expect(await logOf(created.body.task_id)).toContain("capped at $0.0300 (what the task's max_cost_usd leaves)");
  }, 90_000);

  it("stops a streamed claude run past its share of the daily halt as budget_exceeded, and then the breaker halts", async () => {
    const before = (await budget()).day.spent_usd;
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "play=claude-costly.jsonl pause=300", executor: "sonnet" },
    });
    expect(created.status).toBe(201);
    const done = await mesh.finished(created.body.task_id, 60_000);
    const [attempt] = done.attempts;
    // Its cap: the halt less what was spent (no other reservation was held).
    expect(attempt?.cap_usd).toBeCloseTo(HALT_USD - before, 10);
    expect([done.status, attempt?.failure_class]).toEqual(["failed", "budget_exceeded"]);
    expect(attempt?.cost_usd).toBeGreaterThan(attempt?.cap_usd ?? 0);
    expect(attempt?.cost_usd).toBeLessThan(0.9);
    expect(done.attempts).toHaveLength(1);
    const status = await budget();
    expect(status.day.spent_usd).toBeGreaterThanOrEqual(HALT_USD);
    expect(status.breaker).toMatchObject({ state: "open", halted_at: expect.any(Number) });
    expect(status.breaker.reason).toContain(`reached the daily halt of $${HALT_USD.toFixed(4)}`);
    expect(await logOf(created.body.task_id)).toContain(
      `capped at $${(HALT_USD - before).toFixed(4)} (its share of the daily halt)`,
    );
  }, 90_000);

  it("refuses a new task once spend reached the halt, naming it", async () => {
    const response = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "play=claude-costly.jsonl", executor: "sonnet" },
    });
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: { code: "budget_halted" } });
    expect((response.body as { error?: { message?: string } }).error?.message).toContain(
      "reached the daily halt of $0.5000",
    );
    expect((await budget()).day.reserved_usd).toBe(0);
  });
});
