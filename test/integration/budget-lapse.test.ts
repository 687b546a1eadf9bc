// A queued task's reservation never lapses while it waits (docs/budget.md). With a reservation TTL of
// 2 s, a task waits 5 s for the one agent it may use: its reservation is still held (the budget room
// asked its task room and renewed it), and it settles once the agent comes and runs it.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BudgetStatus, estimateAttemptUsd, type TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent | undefined;
let costly: TestAgent | undefined;

beforeAll(async () => {
  mesh = await startMesh({ MESH_RESERVATION_TTL_S: "2" });
});

afterAll(async () => {
  await agent?.stop();
  await costly?.stop();
  await mesh?.stop();
});

const budget = async (): Promise<BudgetStatus> => (await mesh.api<BudgetStatus>("/api/budget")).body;

describe("a queued task's reservation", () => {
  it("is kept past the reservation TTL while the task waits, and settled when it ran", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "wait for vm-late", executor: "sonnet", agent: "vm-late" },
    });
    expect(created.status).toBe(201);
    expect((await budget()).day.reserved_usd).toBeCloseTo(estimateAttemptUsd("sonnet"), 6);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    // Past the TTL: the budget room checks with the task room, which still waits for an agent.
    expect((await mesh.task(created.body.task_id)).status).toBe("queued");
    expect((await budget()).day.reserved_usd).toBeCloseTo(estimateAttemptUsd("sonnet"), 6);
    agent = await startAgent(mesh, "vm-late", {
      executors: {
        sonnet: { command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "3"], format: "text", timeout_s: 30 },
      },
    });
    const done = await mesh.finished(created.body.task_id, 30_000);
    expect(done.status).toBe("succeeded");
    const status = await budget();
    expect(status.day.reserved_usd).toBe(0);
  }, 60_000);

  it("caps each attempt at what the task's max_cost_usd leaves, and refuses a bad one by name", async () => {
    const bad = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "x", max_cost_usd: -1 },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("max_cost_usd");
    costly = await startAgent(mesh, "vm-costly", {
      executors: {
        opus: {
          command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"],
          format: "claude-stream-json",
          timeout_s: 60,
        },
      },
    });
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: {
        instruction: "play=claude-costly.jsonl pause=200",
        executor: "opus",
        agent: "vm-costly",
        max_cost_usd: 0.2,
      },
    });
    expect(created.status).toBe(201);
    const done = await mesh.finished(created.body.task_id, 30_000);
    // Stopped past $0.20 (the task's cap, below opus's reservation) as budget_exceeded; infrastructure, so no climb.
    expect(done.attempts.map((a) => [a.failure_class, a.cost_usd])).toEqual([["budget_exceeded", 0.3]]);
    expect(done.status).toBe("failed");
  }, 60_000);
});
