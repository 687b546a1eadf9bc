// Scheduling on the real server with real agents (docs/scheduling.md): the queue
// timeout, priorities, task graphs and plans, and routing by kind.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  BudgetStatus,
  ExecutorSpec,
  QueueEntry,
  StageRecord,
  TaskSummary,
  TaskView,
} from "../../protocol/index.ts";
import { gitRepo } from "../agents/git-repo.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
const agents: TestAgent[] = [];
/** The fake CLI does what its prompt says (test/fixtures/cli/fake-cli.mjs): `say=…`, `play=… pause=…`, `exit=…`. */
const fake = (timeout_s = 60): ExecutorSpec => ({
  command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"],
  format: "text",
  timeout_s,
});
const ROUTES = [
  { name: "docs", kind: "docs", tier: "gemini-flash" },
  { name: "default", tier: "deepseek" },
];

beforeAll(async () => {
  mesh = await startMesh({ MESH_ROUTES: JSON.stringify(ROUTES), MESH_CONSENSUS_TIERS: "sonnet" });
  agents.push(await startAgent(mesh, "vm-prio", { executors: { deepseek: fake() } }, { capacity: 1 }));
  agents.push(
    await startAgent(
      mesh,
      "vm-plan",
      { executors: { deepseek: fake(), "gemini-flash": fake(), opus: fake(1) } },
      { capacity: 2 },
    ),
  );
});

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
});

const create = (
  body: Record<string, unknown>,
): Promise<{ status: number; body: TaskView & { error?: { code: string; message: string } } }> =>
  mesh.api("/api/tasks", { method: "POST", body });

describe("the queue timeout", () => {
  it("fails a task no agent serves with no_agent after queue_timeout_s, says so while it waits, and leaves nothing reserved", async () => {
    const created = await create({ instruction: "say=never", executor: "opus", agent: "vm-prio", queue_timeout_s: 2 });
    expect(created.status).toBe(201);
    const waiting = await mesh.task(created.body.task_id);
    expect(waiting.waiting).toMatchObject({ for: "agent", tier: "opus" });
    const task = await mesh.finished(created.body.task_id, 20_000);
    expect(task.status).toBe("failed");
    expect(task.error?.code).toBe("no_agent");
    expect(task.error?.message).toContain("tier opus");
    expect(task.error?.message).toContain("vm-prio (deepseek)");
    expect(task.attempts.map((a) => [a.status, a.failure_class])).toEqual([["failed", "no_agent"]]);
    expect(task.waiting).toBeUndefined();
    const budget = await waitFor("the reservation to go", async () => {
      const status = (await mesh.api<BudgetStatus>("/api/budget")).body;
      return status.day.reserved_usd === 0 ? status : null;
    });
    expect(budget.day.reserved_usd).toBe(0);
  });

  it("gives the task to a fitting agent that arrives within the timeout", async () => {
    const created = await create({
      instruction: "say=arrived",
      executor: "codex",
      agent: "vm-late",
      queue_timeout_s: 30,
    });
    expect((await mesh.task(created.body.task_id)).waiting).toMatchObject({ for: "agent", tier: "codex" });
    agents.push(await startAgent(mesh, "vm-late", { executors: { codex: fake() } }));
    const task = await mesh.finished(created.body.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]?.agent).toBe("vm-late");
  });
});

describe("priorities", () => {
  it("serves the highest priority first, and GET /api/queue shows the serving order", async () => {
    // ~6 s of output: time enough to queue the three others behind it even on a loaded machine.
    const running = await create({ instruction: "play=claude-success.jsonl pause=750", agent: "vm-prio" });
    await waitFor("the first task to run", async () => (await mesh.task(running.body.task_id)).status === "running");
    const ids: Record<string, string> = {};
    for (const priority of [1, 9, 5])
      ids[priority] = (await create({ instruction: `say=p${priority}`, agent: "vm-prio", priority })).body.task_id;
    const queue = await waitFor("three queued", async () => {
      const { body } = await mesh.api<{ queue: QueueEntry[] }>("/api/queue");
      return body.queue.length === 3 ? body.queue : null;
    });
    expect(queue.map((entry) => [entry.position, entry.priority, entry.task_id])).toEqual([
      [1, 9, ids[9]],
      [2, 5, ids[5]],
      [3, 1, ids[1]],
    ]);
    const done = await Promise.all([9, 5, 1].map((p) => mesh.finished(ids[p] ?? "", 60_000)));
    expect(done.map((t) => t.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    const starts = done.map((t) => t.attempts[0]?.started_at ?? 0);
    expect(starts[0]).toBeLessThan(starts[1] ?? 0);
    expect(starts[1]).toBeLessThan(starts[2] ?? 0);
    expect(done[0]?.priority).toBe(9);
  });
});

describe("task graphs", () => {
  it("runs C only after A and B both succeeded, and returns the plan as a Mermaid graph", async () => {
    const planned = await mesh.api<{ tasks: TaskView[]; mermaid: string }>("/api/plan", {
      method: "POST",
      body: {
        tasks: [
          { key: "A", instruction: "play=claude-success.jsonl pause=150", agent: "vm-plan" },
          { key: "B", instruction: "play=claude-success.jsonl pause=100", agent: "vm-plan" },
          { key: "C", instruction: "say=after_both", agent: "vm-plan", after: ["A", "B"] },
        ],
      },
    });
    expect(planned.status).toBe(201);
    const [a, b, c] = planned.body.tasks;
    if (a === undefined || b === undefined || c === undefined)
      throw new Error("the plan returned fewer than three tasks");
    expect(c.status).toBe("queued");
    expect(c.waiting).toMatchObject({ for: "tasks" });
    expect([...(c.waiting?.ids ?? [])].sort()).toEqual([a.task_id, b.task_id].sort());
    expect(c.attempts).toEqual([]);
    expect(planned.body.mermaid).toContain("t1 --> t3");
    expect(planned.body.mermaid).toContain("t2 --> t3");
    const [doneA, doneB, doneC] = await Promise.all([a, b, c].map((t) => mesh.finished(t.task_id, 60_000)));
    expect([doneA?.status, doneB?.status, doneC?.status]).toEqual(["succeeded", "succeeded", "succeeded"]);
    const prerequisitesEnded = Math.max(
      doneA?.attempts[0]?.ended_at ?? Infinity,
      doneB?.attempts[0]?.ended_at ?? Infinity,
    );
    expect(doneC?.attempts[0]?.dispatched_at).toBeGreaterThanOrEqual(prerequisitesEnded);
    expect(doneC?.after?.sort()).toEqual([a.task_id, b.task_id].sort());
  });

  it("ends C dependency_failed when A fails, without reserving or dispatching anything for it", async () => {
    const planned = await mesh.api<{ tasks: TaskView[] }>("/api/plan", {
      method: "POST",
      body: {
        tasks: [
          // Hangs past its one-second timeout at opus: an infrastructure failure, so A fails at once.
          { key: "A", instruction: "hang", executor: "opus", agent: "vm-plan" },
          { key: "C", instruction: "say=never", agent: "vm-plan", after: ["A"] },
        ],
      },
    });
    expect(planned.status).toBe(201);
    const [a, c] = planned.body.tasks;
    if (a === undefined || c === undefined) throw new Error("the plan returned fewer than two tasks");
    const failedA = await mesh.finished(a.task_id, 30_000);
    expect(failedA.status).toBe("failed");
    const failedC = await mesh.finished(c.task_id, 30_000);
    expect(failedC.status).toBe("failed");
    expect(failedC.error?.code).toBe("dependency_failed");
    expect(failedC.error?.message).toContain(a.task_id);
    expect(failedC.attempts).toEqual([]);
    const stages = await mesh.api<{ stages: StageRecord[] }>("/api/budget/stages?limit=1000");
    expect(stages.body.stages.filter((s) => s.task_id === c.task_id)).toEqual([]);
  });

  it("refuses a cyclic plan and creates nothing; refuses an unknown task in after", async () => {
    const before = (await mesh.api<{ tasks: TaskSummary[] }>("/api/tasks?limit=500")).body.tasks.length;
    const cyclic = await mesh.api("/api/plan", {
      method: "POST",
      body: {
        tasks: [
          { key: "x", instruction: "say=x", after: ["z"] },
          { key: "y", instruction: "say=y", after: ["x"] },
          { key: "z", instruction: "say=z", after: ["y"] },
        ],
      },
    });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error?.code).toBe("bad_request");
    expect(cyclic.body.error?.message).toMatch(/cycle: (x|y|z) → (x|y|z) → (x|y|z) → (x|y|z)/);
    const unknown = await create({ instruction: "say=x", after: ["no-such-task"] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toContain("no-such-task");
    const after = (await mesh.api<{ tasks: TaskSummary[] }>("/api/tasks?limit=500")).body.tasks.length;
    expect(after).toBe(before);
  });
});

describe("routing by kind", () => {
  it("starts a docs task at the tier the table names, records the rule, and counts its spend by kind", async () => {
    const created = await create({ instruction: "play=claude-success.jsonl pause=0", kind: "docs", agent: "vm-plan" });
    expect(created.status).toBe(201);
    expect(created.body.routing).toEqual({ tier: "gemini-flash", rule: "MESH_ROUTES: docs" });
    const task = await mesh.finished(created.body.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]?.tier).toBe("gemini-flash");
    expect(task.kind).toBe("docs");
    const plain = await create({ instruction: "say=plain", agent: "vm-plan" });
    expect(plain.body.routing).toEqual({ tier: "deepseek", rule: "MESH_ROUTES: default" });
    const named = await create({ instruction: "say=named", executor: "gemini-flash", kind: "docs", agent: "vm-plan" });
    expect(named.body.routing).toEqual({ tier: "gemini-flash", rule: "executor gemini-flash" });
    const budget = await waitFor("spend by kind", async () => {
      const status = (await mesh.api<BudgetStatus>("/api/budget")).body;
      return (status.by_kind?.docs?.attempts ?? 0) >= 1 ? status : null;
    });
    expect(budget.by_kind?.docs?.succeeded).toBeGreaterThanOrEqual(1);
    await Promise.all([plain, named].map((t) => mesh.finished(t.body.task_id)));
  });
});

describe("task graphs across a restart", () => {
  it("starts C after A succeeds even when the server restarts while A runs", async () => {
    const planned = await mesh.api<{ tasks: TaskView[] }>("/api/plan", {
      method: "POST",
      body: {
        tasks: [
          { key: "A", instruction: "play=claude-success.jsonl pause=500", agent: "vm-plan" },
          { key: "C", instruction: "say=after_restart", agent: "vm-plan", after: ["A"] },
        ],
      },
    });
    expect(planned.status).toBe(201);
    const [a, c] = planned.body.tasks;
    if (a === undefined || c === undefined) throw new Error("the plan returned fewer than two tasks");
    await waitFor("A to run", async () => (await mesh.task(a.task_id)).status === "running");
    await mesh.stopServer();
    await mesh.startServer();
    const doneC = await mesh.finished(c.task_id, 60_000);
    expect(doneC.status).toBe("succeeded");
    const doneA = await mesh.task(a.task_id);
    expect(doneA.status).toBe("succeeded");
    expect(doneC.attempts[0]?.dispatched_at).toBeGreaterThanOrEqual(doneA.attempts.at(-1)?.ended_at ?? Infinity);
  });
});

describe("resumed sessions", () => {
  it("continues the CLI's own session when a person retries at the same tier: --resume <id>, the same worktree, resumed_from", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "mesh-resume-"));
    const repo = gitRepo();
    const argvLog = join(scratch, "argv.jsonl");
    try {
      // A claude-format fake CLI that declares resume; opus only, and no consensus tier served: a failure goes to a
      // person.
      const claudeLike: ExecutorSpec = {
        command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"],
        format: "claude-stream-json",
        timeout_s: 60,
        resume: ["--resume", "{session_id}"],
        env: { FAKE_CLI_ARGV_LOG: argvLog },
      };
      agents.push(await startAgent(mesh, "vm-resume", { executors: { opus: claudeLike } }));
      const created = await create({
        instruction: "session=sess-123 write=a.txt",
        executor: "opus",
        agent: "vm-resume",
        cwd: repo,
        acceptance: { command: "test -f b.txt" },
      });
      const waiting = await waitFor(
        "the task to wait for a person",
        async () => {
          const task = await mesh.task(created.body.task_id);
          return task.status === "awaiting_human" ? task : null;
        },
        60_000,
      );
      expect(waiting.attempts[0]).toMatchObject({ failure_class: "test_fail", session_id: "sess-123" });
      // The agent told the session as soon as the CLI printed it, not only with the exit (a lost attempt keeps it).
      const early = await mesh.api<{ lines: Array<{ text: string; attempt: number }> }>(
        `/api/tasks/${created.body.task_id}/logs`,
      );
      expect(
        early.body.lines.some((l) => l.attempt === 1 && l.text.includes("attempt 1 runs CLI session sess-123")),
      ).toBe(true);
      const retried = await mesh.api<TaskView>(`/api/tasks/${created.body.task_id}/resolve`, {
        method: "POST",
        body: { decision: "retry", guidance: "session=sess-123 write=b.txt" },
      });
      expect(retried.status).toBe(200);
      const task = await mesh.finished(created.body.task_id, 60_000);
      expect(task.status).toBe("succeeded");
      expect(task.attempts[1]).toMatchObject({
        role: "retry",
        agent: "vm-resume",
        resumed_from: 1,
        status: "succeeded",
      });
      const runs = readFileSync(argvLog, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { argv: string[]; cwd: string });
      expect(runs).toHaveLength(2);
      expect(runs[0]?.argv).not.toContain("--resume");
      // The resume pieces sit just before the prompt, which is the person's guidance; the CLI runs in the same folder.
      expect(runs[1]?.argv.slice(-3)).toEqual([
        "--resume",
        "sess-123",
        "A person reviewed your work and asks: session=sess-123 write=b.txt",
      ]);
      expect(runs[1]?.cwd).toBe(runs[0]?.cwd);
      const diff = await mesh.api<string>(`/api/tasks/${task.task_id}/diff`);
      expect(diff.body).toContain("a.txt");
      expect(diff.body).toContain("b.txt");
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it("starts fresh and says why when the executor declares no resume", async () => {
    const repo = gitRepo();
    try {
      const plain: ExecutorSpec = {
        command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"],
        format: "claude-stream-json",
        timeout_s: 60,
      };
      agents.push(await startAgent(mesh, "vm-fresh", { executors: { opus: plain } }));
      const created = await create({
        instruction: "session=sess-9 write=a.txt",
        executor: "opus",
        agent: "vm-fresh",
        cwd: repo,
        acceptance: { command: "test -f b.txt" },
      });
      await waitFor(
        "the task to wait for a person",
        async () => (await mesh.task(created.body.task_id)).status === "awaiting_human",
        60_000,
      );
      await mesh.api(`/api/tasks/${created.body.task_id}/resolve`, {
        method: "POST",
        body: { decision: "retry", guidance: "session=sess-10 write=b.txt" },
      });
      const task = await mesh.finished(created.body.task_id, 60_000);
      expect(task.attempts[1]?.resumed_from).toBeUndefined();
      const logs = await mesh.api<{ lines: Array<{ text: string; attempt: number }> }>(
        `/api/tasks/${task.task_id}/logs`,
      );
      expect(
        logs.body.lines.some(
          (l) => l.attempt === 2 && l.text.includes("starting fresh") && l.text.includes('declares no "resume"'),
        ),
      ).toBe(true);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
