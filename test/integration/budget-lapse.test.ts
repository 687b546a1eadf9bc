// Issue 13 (3): a queued task's reservation never lapses while it waits. With a reservation TTL of
// 2 s, a task waits 5 s for the one agent it may use: its reservation is still held (the budget room
// asked its task room and renewed it), and it settles once the agent comes and runs it.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimateAttemptUsd, type BudgetStatus, type TaskView } from "../../protocol/index.ts";
import { FIXTURES, startAgent, startMesh, type Mesh, type TestAgent } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent | undefined;

beforeAll(async () => {
  mesh = await startMesh({ MESH_RESERVATION_TTL_S: "2" });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

const budget = async (): Promise<BudgetStatus> => (await mesh.api<BudgetStatus>("/api/budget")).body;

describe("a queued task's reservation", () => {
  it("is kept past the reservation TTL while the task waits, and settled when it ran", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "wait for vm-late", executor: "sonnet", agent: "vm-late" } });
    expect(created.status).toBe(201);
    expect((await budget()).day.reserved_usd).toBeCloseTo(estimateAttemptUsd("sonnet"), 6);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    // Past the TTL: the budget room checks with the task room, which still waits for an agent.
    expect((await mesh.task(created.body.task_id)).status).toBe("queued");
    expect((await budget()).day.reserved_usd).toBeCloseTo(estimateAttemptUsd("sonnet"), 6);
    agent = await startAgent(mesh, "vm-late", { executors: { sonnet: { command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "3"], format: "text", timeout_s: 30 } } });
    const done = await mesh.finished(created.body.task_id, 30_000);
    expect(done.status).toBe("succeeded");
    const status = await budget();
    expect(status.day.reserved_usd).toBe(0);
  }, 60_000);
});
