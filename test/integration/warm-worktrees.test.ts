// Warm worktrees (docs/repositories.md) on a real server with a real agent and real git: an applied
// result's worktree becomes a spare, the next task's attempt takes it, sees nothing of the previous
// attempt, and the repository's setup runs in it again.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorSpec, TaskView } from "../../protocol/index.ts";
import { git } from "../agents/git-repo.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent | undefined;
const made: string[] = [];
const temp = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};
const writer = (label: string, ...writes: string[]): ExecutorSpec => ({
  command: [process.execPath, join(FIXTURES, "git-writer.mjs"), label, ...writes],
  format: "text",
  timeout_s: 60,
});

async function logText(taskId: string): Promise<string> {
  return (await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${taskId}/logs`)).body.lines
    .map((l) => l.text)
    .join("\n");
}

beforeAll(async () => {
  mesh = await startMesh();
  agent = await startAgent(
    mesh,
    "vm-warm",
    // A change, a new file and an ignored file, like a CLI that built something.
    { executors: { "gemini-flash": writer("flash", "fixed.txt=right", "new.txt=new", "out/build.log=ignored") } },
    { args: ["--state-dir", temp("mesh-warm-state-"), "--warm-worktrees", "1"] },
  );
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe("warm worktrees", () => {
  it("parks an applied result's worktree as a locked spare; the next task takes it clean, and its setup runs again", async () => {
    const dir = temp("mesh-warm-repo-");
    const setupLog = join(temp("mesh-warm-setup-"), "runs.txt");
    git(dir, "init", "-q", "-b", "main");
    writeFileSync(join(dir, "fixed.txt"), "broken\n");
    writeFileSync(join(dir, ".gitignore"), "out/\n");
    mkdirSync(join(dir, ".agent-mesh"));
    writeFileSync(join(dir, ".agent-mesh/setup"), `#!/bin/sh\necho "$PWD" >> ${setupLog}\n`);
    chmodSync(join(dir, ".agent-mesh/setup"), 0o755);
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "initial");

    const run = async (): Promise<TaskView> => {
      const created = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: { instruction: "fix it", cwd: dir, agent: "vm-warm", executor: "gemini-flash" },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const task = await mesh.finished(created.body.task_id);
      expect(task.status).toBe("succeeded");
      return task;
    };
    const first = await run();
    expect((await mesh.api(`/api/tasks/${first.task_id}/apply`, { method: "POST" })).status).toBe(200);
    // Applied: its worktree is parked, and git says what it is.
    const spare = (): RegExpMatchArray | null =>
      git(dir, "worktree", "list", "--porcelain").match(
        /^worktree (\S+\/\.warm\/\S+)\n(?:.*\n)*?locked agent-mesh warm worktree$/m,
      );
    expect(spare()).not.toBeNull();
    git(dir, "commit", "-q", "--allow-empty", "-m", "moved on");

    const second = await run();
    // Taken: no spare is left, and the attempt saw only the repository's files at the new base (new.txt
    // was applied), not the ignored out/ the first attempt left in that folder.
    expect(spare()).toBeNull();
    // Reused, not dropped for a new one (the pool says so in the agent's log when it drops it).
    expect(agent?.output.join("\n")).not.toContain("dropped the warm worktree");
    expect(await logText(second.task_id)).toMatch(/flash: saw \.agent-mesh,\.gitignore,fixed\.txt,new\.txt$/m);
    expect(second.result?.base).toBe(git(dir, "rev-parse", "HEAD"));
    expect(readFileSync(setupLog, "utf8").trim().split("\n")).toHaveLength(2);
  }, 90_000);
});
