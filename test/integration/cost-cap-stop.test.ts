// A task's max_cost_usd on a real mesh with a real agent (docs/costs.md): a codex-format CLI whose
// streamed turns take it past the task's cap, and that goes on, is stopped `budget_exceeded` near the
// cap, the log naming the cost and the task's cap to four decimals, once; one whose only turn passes
// the cap at its end keeps its result, marked over_cap.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent | undefined;
const ratesDir = mkdtempSync(join(tmpdir(), "cost-cap-rates-"));

/** $0.08 a turn: 10,000 input and 1,000 output tokens at $5 / $30 per million (the agent's --rates). */
const TURN_USD = 0.08;
const CAP_USD = 0.3;

beforeAll(async () => {
  mesh = await startMesh();
  const rates = join(ratesDir, "rates.json");
  writeFileSync(rates, JSON.stringify({ models: { "gpt-5.5": { input: 5, output: 30 } } }));
  const codex = {
    command: [process.execPath, join(FIXTURES, "cost-codex-turns.mjs"), "-m", "gpt-5.5", "{prompt}"],
    format: "codex-jsonl" as const,
    timeout_s: 60,
  };
  agent = await startAgent(mesh, "vm-cost-stop", { executors: { codex } }, { args: ["--rates", rates] });
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  rmSync(ratesDir, { recursive: true, force: true });
});

const logOf = async (taskId: string): Promise<string[]> =>
  (await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${taskId}/logs`)).body.lines.map((line) => line.text);

describe("a task's max_cost_usd on a real mesh", () => {
  it("stops a codex-format CLI that streams its turns past the cap: budget_exceeded, near the cap, the task's cap named once", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "turns=50 pause=200", executor: "codex", agent: "vm-cost-stop", max_cost_usd: CAP_USD },
    });
    expect(created.status).toBe(201);
    const done = await mesh.finished(created.body.task_id, 60_000);
    // Turn 4 took it to $0.32; turn 5 starting is the CLI going on. Infrastructure: no climb to another tier.
    expect(done.status).toBe("failed");
    expect(done.attempts.map((attempt) => attempt.failure_class)).toEqual(["budget_exceeded"]);
    const cost = done.attempts[0]?.cost_usd ?? 0;
    expect(cost).toBeGreaterThan(CAP_USD);
    expect(cost).toBeLessThanOrEqual(CAP_USD + 2 * TURN_USD);
    const stops = (await logOf(created.body.task_id)).filter((text) => text.includes("stopping it"));
    expect(stops).toEqual([
      "[agent] the attempt has cost $0.3200, past the task's cap of $0.3000 (max_cost_usd); stopping it",
    ]);
  }, 90_000);

  it("keeps a codex-format CLI whose single turn passes the cap only at its end: succeeded, over_cap", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: {
        instruction: "turns=1 input=50000 output=5000",
        executor: "codex",
        agent: "vm-cost-stop",
        max_cost_usd: CAP_USD,
      },
    });
    expect(created.status).toBe(201);
    const done = await mesh.finished(created.body.task_id, 60_000);
    expect(done.status).toBe("succeeded");
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ over_cap: true });
    expect(done.attempts[0]?.failure_class).toBeUndefined();
    expect(done.attempts[0]?.cost_usd).toBeCloseTo(0.4, 6);
    expect(await logOf(created.body.task_id)).toContain(
      "[agent] the CLI reported its cost $0.4000 only at its end, past the task's cap of $0.3000 (max_cost_usd); the result is kept, the excess counts toward the daily halt",
    );
  }, 90_000);
});
