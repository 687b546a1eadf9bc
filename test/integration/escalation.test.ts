// The ladder on a real server with real agents: quality failures climb, infra failures stop,
// consensus picks on evidence, and a person decides at the end — even across a restart.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BudgetStatus, ExecutorSpec, StageRecord, TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
const agents: TestAgent[] = [];
const cli = (code: string, label: string, timeout_s = 60): ExecutorSpec => ({
  command: [process.execPath, join(FIXTURES, "exit-with.mjs"), code, label],
  format: "text",
  timeout_s,
});

beforeAll(async () => {
  // A million input tokens per estimate: the claude transcript replayed at cheap tiers below costs
  // $0.085, and each attempt is capped at its reservation (docs/costs.md); this keeps the caps above it.
  mesh = await startMesh({
    MESH_CONSENSUS_TIERS: "codex,sonnet",
    MESH_CONSENSUS_SIZE: "2",
    MESH_ESTIMATE_INPUT_TOKENS: "1000000",
  });
  // deepseek and gemini-flash fail on quality (exit 1), gemini-pro passes; codex and opus fail, sonnet passes.
  agents.push(
    await startAgent(
      mesh,
      "vm-ladder",
      {
        executors: {
          deepseek: cli("1", "deepseek"),
          "gemini-flash": cli("1", "flash"),
          "gemini-pro": cli("0", "pro"),
          codex: cli("1", "codex"),
          sonnet: cli("0", "sonnet"),
          opus: cli("1", "opus"),
        },
      },
      { capacity: 4 },
    ),
  );
  // Hangs past its one-second timeout: an infrastructure failure.
  agents.push(await startAgent(mesh, "vm-hang", { executors: { opus: cli("hang", "hang", 1) } }));
  // Real CLI output (Claude stream-json, with tokens and cost); only gemini-pro makes the acceptance check pass.
  const claude = (...directives: string[]): ExecutorSpec => ({
    command: [
      process.execPath,
      join(FIXTURES, "cli/fake-cli.mjs"),
      "play=claude-success.jsonl",
      "pause=5",
      ...directives,
    ],
    format: "claude-stream-json",
    timeout_s: 60,
  });
  agents.push(
    await startAgent(mesh, "vm-accept", {
      executors: { deepseek: claude(), "gemini-flash": claude(), "gemini-pro": claude("write=done.txt") },
    }),
  );
  // Fails every automatic step; only opus (never chosen automatically here) passes.
  agents.push(
    await startAgent(
      mesh,
      "vm-failing",
      { executors: { deepseek: cli("1", "d2"), codex: cli("1", "c2"), sonnet: cli("1", "s2"), opus: cli("0", "o2") } },
      { capacity: 2 },
    ),
  );
});

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
});

async function settled(
  taskId: string,
  statuses = ["succeeded", "failed", "cancelled", "awaiting_human"],
): Promise<TaskView> {
  return waitFor(
    `task ${taskId} to settle`,
    async () => {
      const task = await mesh.task(taskId);
      return statuses.includes(task.status) &&
        task.attempts.every((a) => a.status !== "dispatched" && a.status !== "running")
        ? task
        : null;
    },
    60_000,
  ).catch(async (error: unknown) => {
    // Say where it stood: a timeout alone does not tell a lost assignment from a slow agent.
    const task = await mesh.task(taskId);
    const agents = await mesh.api("/api/agents");
    throw new Error(
      `${String(error)}\ntask: ${JSON.stringify({ status: task.status, attempts: task.attempts })}\nagents: ${JSON.stringify(agents.body)}`,
    );
  });
}

describe("escalation", () => {
  it("climbs the ladder on quality failures until a tier passes, recording each step", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "make the tests pass", agent: "vm-ladder" },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts.map((a) => [a.tier, a.status, a.failure_class ?? null])).toEqual([
      ["deepseek", "failed", "unknown"],
      ["gemini-flash", "failed", "unknown"],
      ["gemini-pro", "succeeded", null],
    ]);
    expect(task.mermaid).toContain("gemini-flash");
    const logs = await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${task.task_id}/logs`);
    expect(logs.body.lines.some((l) => l.text.includes("escalating to gemini-flash"))).toBe(true);
  });

  it("climbs while the acceptance check fails (test_fail) and stops where it passes; every attempt's real cost reaches the budget ledger", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "mesh-accept-"));
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "create done.txt", agent: "vm-accept", cwd, acceptance: { command: "test -f done.txt" } },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts.map((a) => [a.tier, a.status, a.failure_class ?? null])).toEqual([
      ["deepseek", "failed", "test_fail"],
      ["gemini-flash", "failed", "test_fail"],
      ["gemini-pro", "succeeded", null],
    ]);
    expect(task.attempts.every((a) => a.cost_usd > 0 && a.tokens.input > 0)).toBe(true);
    expect(task.cost_usd).toBeCloseTo(
      task.attempts.reduce((sum, a) => sum + a.cost_usd, 0),
      10,
    );
    const stages = (await mesh.api<{ stages: StageRecord[] }>("/api/budget/stages")).body.stages;
    const budget = (await mesh.api<BudgetStatus>("/api/budget")).body;
    expect(stages.filter((s) => s.task_id === task.task_id).map((s) => s.cost_usd)).toEqual(
      task.attempts.map((a) => a.cost_usd),
    );
    expect(budget.day.spent_usd).toBeCloseTo(
      stages.reduce((sum, s) => sum + s.cost_usd, 0),
      10,
    );
  });

  it("skips a tier its agents do not serve and records the skip", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "skip", agent: "vm-failing", executor: "gemini-flash" },
    });
    expect(created.body.tier).toBe("codex");
    expect(created.body.skipped_tiers?.map((s) => s.tier)).toEqual(["gemini-flash", "gemini-pro"]);
    await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
  });

  it("stops at once on an infrastructure failure (a timeout)", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "hang", executor: "opus", agent: "vm-hang" },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("failed");
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]?.failure_class).toBe("timeout");
    expect(task.error?.code).toBe("timeout");
  });

  it("runs consensus at the top of the ladder and picks the passing candidate", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "consensus please", executor: "opus", agent: "vm-ladder" },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]).toMatchObject({ tier: "opus", failure_class: "unknown" });
    expect(task.attempts.slice(1).map((a) => [a.tier, a.role, a.status])).toEqual([
      ["codex", "consensus", "failed"],
      ["sonnet", "consensus", "succeeded"],
    ]);
    expect(task.winner).toBe(3);
    expect(task.mermaid).toContain("consensus");
  });

  it("sends a task no candidate passes to a person, at most five attempts; the wait survives a restart; a retry with guidance succeeds", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "hard one", agent: "vm-failing" },
    });
    const waiting = await settled(created.body.task_id);
    expect(waiting.status).toBe("awaiting_human");
    expect(waiting.attempts).toHaveLength(5);
    expect(waiting.attempts.map((a) => a.role)).toEqual([
      "sequential",
      "sequential",
      "sequential",
      "consensus",
      "consensus",
    ]);
    expect(waiting.human?.summary).toContain("#1 deepseek");

    await mesh.stopServer();
    await mesh.startServer();
    expect((await mesh.task(created.body.task_id)).status).toBe("awaiting_human");
    await waitFor("vm-failing back online", async () => {
      const { body } = await mesh.api<{ agents: Array<{ name: string; state: string }> }>("/api/agents");
      return body.agents.some((a) => a.name === "vm-failing" && a.state === "online");
    });

    const resolved = await mesh.api<TaskView>(`/api/tasks/${created.body.task_id}/resolve`, {
      method: "POST",
      body: { decision: "retry", guidance: "try the bigger model", executor: "opus" },
    });
    expect(resolved.status).toBe(200);
    const done = await settled(created.body.task_id);
    expect(done.status).toBe("succeeded");
    expect(done.attempts.at(-1)).toMatchObject({
      n: 6,
      tier: "opus",
      role: "retry",
      guidance: "try the bigger model",
      status: "succeeded",
    });
    expect(done.human?.decision).toBe("retry");
    const again = await mesh.api(`/api/tasks/${created.body.task_id}/resolve`, {
      method: "POST",
      body: { decision: "approve" },
    });
    expect(again.status).toBe(409);
  });
});
