// A resume the CLI refuses starts fresh, and a person's guidance reaches a model (docs/resume.md), on
// the real server with a real agent: the CLI is a claude stand-in whose sessions are always gone.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorSpec, TaskView } from "../../protocol/index.ts";
import { gitRepo } from "../agents/git-repo.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

type Run = { argv: string[]; cwd: string; prompt: string; resumed: string | null };

let mesh: Mesh;
let agent: TestAgent | undefined;
let scratch: string;
let runLog: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "mesh-resume-refused-"));
  runLog = join(scratch, "runs.jsonl");
  // The default consensus tiers; this agent serves only opus, so a failure at opus has one consensus tier served.
  mesh = await startMesh();
  const refusing: ExecutorSpec = {
    command: [process.execPath, join(FIXTURES, "cli/resume-refusing-cli.mjs"), "-p", "{prompt}"],
    format: "claude-stream-json",
    timeout_s: 60,
    resume: ["--resume", "{session_id}"],
    env: { RESUME_CLI_LOG: runLog },
  };
  agent = await startAgent(mesh, "vm-refusing", { executors: { opus: refusing } });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const runs = (): Run[] =>
  existsSync(runLog)
    ? readFileSync(runLog, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Run)
    : [];

describe("a person's retry whose resume the CLI refuses", () => {
  it("waits for a person instead of a one-candidate consensus, then runs fresh on the same attempt with the guidance in its prompt", async () => {
    const repo = gitRepo();
    try {
      const created = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: {
          instruction: "write=a.txt",
          executor: "opus",
          agent: "vm-refusing",
          cwd: repo,
          acceptance: { command: "test -f b.txt" },
        },
      });
      expect(created.status).toBe(201);
      const taskId = created.body.task_id;
      const waiting = await waitFor(
        "the task to wait for a person",
        async () => {
          const task = await mesh.task(taskId);
          return task.status === "awaiting_human" ? task : null;
        },
        60_000,
      );
      // One served consensus tier is no consensus: no attempt 2 at the same tier, the cap's slots kept.
      expect(waiting.attempts).toHaveLength(1);
      expect(waiting.attempts[0]).toMatchObject({
        failure_class: "test_fail",
        session_id: expect.stringMatching(/^fresh-\d+$/),
      });
      expect(waiting.human?.reason).toContain("consensus needs 2 candidates");

      const retried = await mesh.api<TaskView>(`/api/tasks/${taskId}/resolve`, {
        method: "POST",
        body: { decision: "retry", guidance: "write=b.txt" },
      });
      expect(retried.status).toBe(200);
      const task = await mesh.finished(taskId, 60_000);
      expect(task.status).toBe("succeeded");
      expect(task.attempts).toHaveLength(2);
      const retry = task.attempts[1];
      expect(retry).toMatchObject({
        n: 2,
        role: "retry",
        guidance: "write=b.txt",
        agent: "vm-refusing",
        resume_refused: 1,
        status: "succeeded",
      });
      expect(retry?.resumed_from).toBeUndefined();
      expect(retry?.session_id).not.toBe(waiting.attempts[0]?.session_id);

      // Attempt 1 fresh; attempt 2 asked to resume attempt 1's session and was refused; then fresh, in the same folder.
      const [first, refused, fresh] = runs();
      expect(runs()).toHaveLength(3);
      expect(first?.resumed).toBeNull();
      expect(refused?.resumed).toBe(waiting.attempts[0]?.session_id);
      expect(refused?.prompt).toBe("A person reviewed your work and asks: write=b.txt");
      expect(fresh?.resumed).toBeNull();
      expect(fresh?.prompt).toContain("write=a.txt");
      expect(fresh?.prompt).toContain("Attempt 1 (opus");
      expect(fresh?.prompt).toContain("Guidance from a person: write=b.txt");
      expect(fresh?.cwd).toBe(refused?.cwd);
      expect(refused?.cwd).toBe(first?.cwd);

      const logs = await mesh.api<{ lines: Array<{ text: string; attempt: number; stream: string }> }>(
        `/api/tasks/${taskId}/logs`,
      );
      const system = logs.body.lines
        .filter((line) => line.attempt === 2 && line.stream === "system")
        .map((line) => line.text);
      expect(
        system.some(
          (text) =>
            text.includes(`refused to resume session ${waiting.attempts[0]?.session_id}`) &&
            text.includes("No conversation found") &&
            text.includes("running it again fresh"),
        ),
      ).toBe(true);
      expect(
        system.some((text) => text.includes("the CLI refused to resume attempt 1's session, so it ran fresh")),
      ).toBe(true);
      const diff = await mesh.api<string>(`/api/tasks/${taskId}/diff`);
      expect(diff.body).toContain("b.txt");
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
