// A task travels the whole way: HTTP → task room → registry → real agent → real child → room → viewers.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLine, TaskView } from "../../protocol/index.ts";
import {
  FIXTURES,
  type Mesh,
  processAlive,
  startAgent,
  startMesh,
  TaskViewer,
  type TestAgent,
  waitFor,
} from "./mesh-harness.ts";

const LINES = 3000;
let mesh: Mesh;
let agent: TestAgent;

/** The stdout lines a run of print-lines.mjs prints, in order. */
const expectedStdout = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`);
const stdoutOf = (lines: LogLine[]): string[] =>
  lines.filter((line) => line.stream === "stdout").map((line) => line.text);

beforeAll(async () => {
  mesh = await startMesh();
  // Tier sonnet prints LINES lines in bursts; tier deepseek's command is given per test through the prompt.
  agent = await startAgent(
    mesh,
    "vm-test-1",
    {
      executors: {
        sonnet: {
          command: [process.execPath, join(FIXTURES, "print-lines.mjs"), String(LINES), "0", "250", "40"],
          format: "text",
          timeout_s: 120,
        },
        opus: {
          command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "20", "3"],
          format: "text",
          timeout_s: 120,
        },
        codex: {
          command: [process.execPath, join(FIXTURES, "sleeper.mjs"), "{prompt}"],
          format: "text",
          timeout_s: 120,
        },
      },
    },
    { capacity: 3 },
  );
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

describe("a task end to end", () => {
  it("streams every output line to viewers exactly once and in order, and ends succeeded with exit code 0", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "print lines", executor: "sonnet" },
    });
    expect(created.status).toBe(201);
    const taskId = created.body.task_id;
    expect(created.body.status).toBe("queued");
    const early = await TaskViewer.open(mesh, taskId);
    // A second viewer joins mid-run: it gets the stored lines replayed, then the live ones.
    await waitFor("some output", () => early.lines.filter((l) => l.stream === "stdout").length > 500);
    const late = await TaskViewer.open(mesh, taskId);
    const task = await mesh.finished(taskId);
    expect(task.status).toBe("succeeded");
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]).toMatchObject({
      n: 1,
      tier: "sonnet",
      agent: "vm-test-1",
      status: "succeeded",
      exit_code: 0,
    });
    expect(task.mermaid).toContain("flowchart");
    for (const viewer of [early, late]) {
      await waitFor("the viewer to hold every line", () => stdoutOf(viewer.lines).length >= LINES);
      await new Promise((done) => setTimeout(done, 200));
      expect(viewer.lines.map((line) => line.seq)).toEqual(viewer.lines.map((_, i) => i));
      expect(stdoutOf(viewer.lines)).toEqual(expectedStdout(LINES));
      expect(viewer.lines.some((line) => line.stream === "stderr" && line.text === "note 0")).toBe(true);
      expect(viewer.errors).toEqual([]);
      viewer.close();
    }
  });

  it("serves the log over HTTP from any since_seq, in order, with the limit", async () => {
    const { body: list } = await mesh.api<{ tasks: Array<{ task_id: string }> }>("/api/tasks?status=succeeded");
    const taskId = list.tasks[0]?.task_id ?? "";
    const page = await mesh.api<{ lines: LogLine[] }>(`/api/tasks/${taskId}/logs?since_seq=100&limit=250`);
    expect(page.status).toBe(200);
    expect(page.body.lines.map((line) => line.seq)).toEqual(Array.from({ length: 250 }, (_, i) => 100 + i));
    const bad = await mesh.api(`/api/tasks/${taskId}/logs?since_seq=-4`);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain("since_seq");
  });

  it("ends a failing command's attempt failed, with its exit code and a quality failure class, and escalates", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "fail", executor: "opus" },
    });
    const task = await waitFor("the first attempt to end", async () => {
      const current = await mesh.task(created.body.task_id);
      return current.attempts[0]?.status === "failed" ? current : null;
    });
    expect(task.attempts[0]).toMatchObject({ status: "failed", exit_code: 3, failure_class: "unknown" });
    // A quality failure is not the end: opus is the top tier, so consensus runs next.
    const next = await waitFor("the next step", async () => {
      const current = await mesh.task(created.body.task_id);
      return current.attempts.length > 1 ? current : null;
    });
    expect(next.attempts[1]?.role).toBe("consensus");
    await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
  });

  it("names tasks, refuses a name in use, and finds a task by its name", async () => {
    const first = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { name: "named-run", prompt: "print", executor: "opus" },
    });
    expect(first.status).toBe(201);
    const again = await mesh.api("/api/tasks", {
      method: "POST",
      body: { name: "named-run", prompt: "print", executor: "opus" },
    });
    // Either still unfinished (409) or already done (a new task may take the name).
    if (again.status === 409) expect(again.body.error?.code).toBe("name_in_use");
    const byName = await mesh.task("named-run");
    expect(byName.name).toBe("named-run");
  });

  it("cancels a running task and stops its whole process tree", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "mesh-cancel-")), "pids");
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: pidFile, executor: "codex" },
    });
    const taskId = created.body.task_id;
    await waitFor("the task to run", async () => (await mesh.task(taskId)).status === "running" && existsSync(pidFile));
    const [child, grandchild] = readFileSync(pidFile, "utf8").split(" ").map(Number);
    expect(processAlive(child ?? 0) && processAlive(grandchild ?? 0)).toBe(true);
    const cancelled = await mesh.api<TaskView>(`/api/tasks/${taskId}/cancel`, {
      method: "POST",
      body: { reason: "test" },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    await waitFor(
      "the process tree to be gone",
      () => !processAlive(child ?? 0) && !processAlive(grandchild ?? 0),
      15_000,
    );
    const again = await mesh.api(`/api/tasks/${taskId}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
  });

  it("lists the agent with its tiers, kind and capacity", async () => {
    const { body } = await mesh.api<{ agents: Array<Record<string, unknown>> }>("/api/agents");
    expect(body.agents).toContainEqual(
      expect.objectContaining({
        name: "vm-test-1",
        kind: "vm",
        capacity: 3,
        state: "online",
        tiers: expect.arrayContaining(["sonnet", "opus", "codex"]),
      }),
    );
  });
});
