// The server stops mid-run and comes back on the same persist directory: nothing is lost.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentRecord, LogLine, TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const LINES = 400;
let mesh: Mesh;
let agent: TestAgent;

beforeAll(async () => {
  mesh = await startMesh();
  agent = await startAgent(mesh, "vm-restart", {
    executors: {
      // ~8 s of output: 10 lines every 200 ms.
      sonnet: {
        command: [process.execPath, join(FIXTURES, "print-lines.mjs"), String(LINES), "0", "10", "200"],
        format: "text",
        timeout_s: 120,
      },
      opus: { command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "50"], format: "text", timeout_s: 120 },
    },
  });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

async function allLines(taskId: string): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for (;;) {
    const page = await mesh.api<{ lines: LogLine[] }>(`/api/tasks/${taskId}/logs?since_seq=${lines.length}`);
    if (page.body.lines.length === 0) return lines;
    lines.push(...page.body.lines);
  }
}

describe("a server restart", () => {
  it("keeps tasks, logs and agent records, and the agent reconnects by itself and finishes its attempt", async () => {
    const done = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { name: "before-restart", instruction: "short", executor: "opus" },
    });
    await waitFor("the first task to finish", async () => (await mesh.task(done.body.task_id)).status === "succeeded");
    const linesBefore = await allLines(done.body.task_id);

    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "long", executor: "sonnet" },
    });
    const taskId = created.body.task_id;
    await waitFor(
      "output to flow",
      async () => (await allLines(taskId)).filter((l) => l.stream === "stdout").length > 50,
    );

    await mesh.stopServer();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await mesh.startServer();

    // What was there before is there after.
    const before = await mesh.task("before-restart");
    expect(before.status).toBe("succeeded");
    expect(await allLines(before.task_id)).toEqual(linesBefore);
    const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
    expect(body.agents.map((a) => a.name)).toContain("vm-restart");

    // The agent comes back by itself and the running attempt ends well.
    await waitFor("the agent to be online again", async () => {
      const { body: again } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
      return again.agents.some((a) => a.name === "vm-restart" && a.state === "online");
    });
    const task = await waitFor(
      "the long task to finish",
      async () => {
        const current = await mesh.task(taskId);
        return current.status === "succeeded" || current.status === "failed" ? current : null;
      },
      60_000,
    );
    expect(task.status).toBe("succeeded");
    expect(task.attempts).toHaveLength(1);
    const stdout = (await allLines(taskId)).filter((l) => l.stream === "stdout").map((l) => l.text);
    expect(stdout).toEqual(Array.from({ length: LINES }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`));
  });

  it("survives a 10 s outage mid-task: the same attempt goes on and every printed line arrives exactly once", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "long", executor: "sonnet" },
    });
    const taskId = created.body.task_id;
    await waitFor(
      "output to flow",
      async () => (await allLines(taskId)).filter((l) => l.stream === "stdout").length > 20,
    );
    await mesh.stopServer();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await mesh.startServer();
    const task = await waitFor(
      "the task to finish",
      async () => {
        const current = await mesh.task(taskId);
        return current.status === "succeeded" || current.status === "failed" ? current : null;
      },
      60_000,
    );
    expect(task.status).toBe("succeeded");
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]?.failure_class).toBeUndefined();
    const hash = (lines: string[]): string => createHash("sha256").update(lines.join("\n")).digest("hex");
    const received = (await allLines(taskId)).filter((l) => l.stream === "stdout").map((l) => l.text);
    const printed = Array.from({ length: LINES }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`);
    expect(received.length).toBe(printed.length);
    expect(hash(received)).toBe(hash(printed));
  });
});
