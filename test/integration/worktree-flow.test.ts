// Work isolation and reviewable results (docs/work-isolation.md) on a real server with real agents and real git:
// every attempt in its own worktree, every result a commit and a diff, applied by one call.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorSpec, TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
const agents: TestAgent[] = [];
const dirs: string[] = [];
const state = mkdtempSync(join(tmpdir(), "mesh-agent-state-"));
const writer = (label: string, ...writes: string[]): ExecutorSpec => ({
  command: [process.execPath, join(FIXTURES, "git-writer.mjs"), label, ...writes],
  format: "text",
  timeout_s: 60,
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();
}

/** A repository with one commit on `main`, owned by the test. */
function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-repo-"));
  dirs.push(dir);
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "README.md"), "project\n");
  writeFileSync(join(dir, "fixed.txt"), "broken\n");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "initial");
  return dir;
}

async function settled(taskId: string): Promise<TaskView> {
  return waitFor(
    `task ${taskId} to settle`,
    async () => {
      const task = await mesh.task(taskId);
      return ["succeeded", "failed", "cancelled", "awaiting_human"].includes(task.status) &&
        task.attempts.every((a) => a.status !== "dispatched" && a.status !== "running")
        ? task
        : null;
    },
    60_000,
  );
}

async function diffOf(ref: string, attempt?: number): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(
    `${mesh.url}/api/tasks/${ref}/diff${attempt === undefined ? "" : `?attempt=${attempt}`}`,
    { headers: { authorization: `Bearer ${mesh.orchestratorToken}` } },
  );
  return { status: response.status, text: await response.text(), type: response.headers.get("content-type") };
}

const agentState = (name: string): string => join(state, name);

beforeAll(async () => {
  mesh = await startMesh({ MESH_CONSENSUS_TIERS: "codex,sonnet", MESH_CONSENSUS_SIZE: "2" });
  agents.push(
    await startAgent(
      mesh,
      "vm-git",
      {
        executors: {
          // The first tier writes the wrong content and a stray file; the next writes the right one.
          deepseek: writer("deepseek", "fixed.txt=wrong", "stray.txt=stray"),
          "gemini-flash": writer("flash", "fixed.txt=right"),
          "gemini-pro": writer("pro", "fixed.txt=pro", "exit=1"),
          opus: writer("opus", "image.bin=@binary", "fixed.txt=right"),
          // A small file and a 5 MB one: the stored diff stops before the large one (4 MiB cap).
          codex: writer("big", "a-small.txt=small", "big.txt=@mb:5"),
        },
      },
      { args: ["--state-dir", agentState("vm-git")] },
    ),
  );
}, 60_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
  for (const dir of [...dirs, state]) rmSync(dir, { recursive: true, force: true });
});

describe("work isolation", () => {
  it("runs each attempt in a fresh worktree from the same base, leaves the checkout alone until apply, then applies exactly the winner", async () => {
    const dir = repo();
    const head = git(dir, "rev-parse", "HEAD");
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "fix it", cwd: dir, agent: "vm-git", acceptance: { command: "grep -qx right fixed.txt" } },
    });
    expect(created.status).toBe(201);
    const task = await settled(created.body.task_id);
    expect(task.attempts.map((a) => [a.tier, a.status, a.failure_class ?? null])).toEqual([
      ["deepseek", "failed", "test_fail"],
      ["gemini-flash", "succeeded", null],
    ]);
    const [first, second] = task.attempts;
    expect(first).toMatchObject({
      isolation: "worktree",
      base: head,
      diff_stat: { files: 2 },
      acceptance: { command: "grep -qx right fixed.txt", passed: false, exit_code: 1 },
    });
    expect(second).toMatchObject({
      isolation: "worktree",
      base: head,
      branch: `mesh/${task.task_id}/2-gemini-flash`,
      diff_stat: { files: 1, insertions: 1, deletions: 1 },
      acceptance: { passed: true, exit_code: 0 },
    });
    expect(task.result).toEqual({
      attempt: 2,
      branch: second?.branch,
      commit: second?.commit,
      base: head,
      diff_stat: second?.diff_stat,
    });
    // The second tier's worktree had neither the wrong file nor the stray one: it started clean.
    const logs = await mesh.api<{ lines: Array<{ text: string; attempt: number }> }>(`/api/tasks/${task.task_id}/logs`);
    expect(logs.body.lines.find((l) => l.attempt === 2 && l.text.startsWith("flash: saw"))?.text).toBe(
      "flash: saw README.md,fixed.txt",
    );
    // The user's checkout is untouched.
    expect(git(dir, "status", "--porcelain")).toBe("");
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    expect(readFileSync(join(dir, "fixed.txt"), "utf8")).toBe("broken\n");

    // The patch applies at the base in another clone.
    const diff = await diffOf(task.task_id);
    expect(diff.status).toBe(200);
    expect(diff.type).toContain("text/x-diff");
    const clone = mkdtempSync(join(tmpdir(), "mesh-clone-"));
    dirs.push(clone);
    git(clone, "clone", "-q", dir, ".");
    writeFileSync(join(clone, "change.patch"), diff.text);
    git(clone, "apply", "--check", "change.patch");

    const applied = await mesh.api<TaskView>(`/api/tasks/${task.task_id}/apply`, { method: "POST" });
    expect(applied.status).toBe(200);
    expect(applied.body.applied?.commit).toBe(git(dir, "rev-parse", "HEAD"));
    expect(readFileSync(join(dir, "fixed.txt"), "utf8")).toBe("right\n");
    expect(existsSync(join(dir, "stray.txt"))).toBe(false);
    expect(git(dir, "log", "--format=%H")).toContain(second?.commit ?? "none");
    expect(git(dir, "status", "--porcelain")).toBe("");
    // Twice is a no-op that says so.
    const again = await mesh.api<TaskView>(`/api/tasks/${task.task_id}/apply`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(again.body.applied).toEqual(applied.body.applied);
  });

  it("runs consensus candidates side by side on one agent, keeps both diffs intact, and picks the one whose acceptance passed", async () => {
    const dir = repo();
    // Three sequential failures, then consensus runs codex and sonnet at once on this one agent.
    const fail = (label: string): ExecutorSpec => writer(label, `${label}.txt=tried`, "exit=1");
    const executors = {
      deepseek: fail("d"),
      "gemini-flash": fail("f"),
      "gemini-pro": fail("p"),
      codex: writer("codex", "fixed.txt=codex_version"),
      sonnet: writer("sonnet", "fixed.txt=right", "sleep=300"),
    };
    const pair = await startAgent(
      mesh,
      "vm-pair",
      { executors },
      { capacity: 2, args: ["--state-dir", agentState("vm-pair")] },
    );
    agents.push(pair);
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "fix it", cwd: dir, agent: "vm-pair", acceptance: { command: "grep -qx right fixed.txt" } },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    const [codex, sonnet] = [
      task.attempts.find((a) => a.tier === "codex"),
      task.attempts.find((a) => a.tier === "sonnet"),
    ];
    expect(codex).toMatchObject({ role: "consensus", status: "failed", failure_class: "test_fail" });
    expect(sonnet).toMatchObject({ role: "consensus", status: "succeeded" });
    // They ran at the same time, each in its own worktree.
    expect(
      (codex?.started_at ?? 0) < (sonnet?.ended_at ?? 0) && (sonnet?.started_at ?? 0) < (codex?.ended_at ?? 0),
    ).toBe(true);
    expect(codex?.branch).not.toBe(sonnet?.branch);
    const codexDiff = await diffOf(task.task_id, codex?.n);
    const sonnetDiff = await diffOf(task.task_id, sonnet?.n);
    expect(codexDiff.text).toContain("+codex version");
    expect(codexDiff.text).not.toContain("+right");
    expect(sonnetDiff.text).toContain("+right");
    expect(sonnetDiff.text).not.toContain("codex version");
    expect(task.consensus?.winner).toBe(sonnet?.n);
    expect(task.consensus?.reasons.join("\n")).toContain(`attempt ${codex?.n} (codex) did not pass`);
    expect(task.result?.attempt).toBe(sonnet?.n);
    expect(task.mermaid).toContain("consensus: #");
  });
});

describe("diffs", () => {
  it("round-trips a binary file through the diff route", async () => {
    const dir = repo();
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "add an image", cwd: dir, agent: "vm-git", executor: "opus" },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    const diff = await diffOf(task.task_id);
    expect(diff.text).toContain("GIT binary patch");
    const clone = mkdtempSync(join(tmpdir(), "mesh-clone-"));
    dirs.push(clone);
    git(clone, "clone", "-q", dir, ".");
    writeFileSync(join(clone, "change.patch"), diff.text);
    git(clone, "apply", "change.patch");
    expect([...readFileSync(join(clone, "image.bin"))]).toEqual(Array.from({ length: 256 }, (_, i) => i));
  });

  it("cuts a diff past the 4 MiB cap at a file boundary and flags it; the branch keeps all of it", async () => {
    const dir = repo();
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "write a lot", cwd: dir, agent: "vm-git", executor: "codex" },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]).toMatchObject({ diff_truncated: true, diff_stat: { files: 2 } });
    const diff = await diffOf(task.task_id);
    expect(diff.text).toContain("a-small.txt");
    expect(diff.text).not.toContain("big.txt");
    expect(git(dir, "diff", "--stat", `${task.attempts[0]?.base}..${task.attempts[0]?.branch}`)).toContain("big.txt");
  });

  it("runs a task in a folder outside git in place, and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mesh-plain-"));
    dirs.push(dir);
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "write", cwd: dir, agent: "vm-git", executor: "gemini-flash" },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]?.isolation).toBe("none");
    expect(readFileSync(join(dir, "fixed.txt"), "utf8")).toBe("right\n");
    const logs = await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${task.task_id}/logs`);
    expect(logs.body.lines.some((l) => l.text.includes("not inside a git repository"))).toBe(true);
    expect((await diffOf(task.task_id)).status).toBe(409);
  });
});

describe("links on the task page", () => {
  it("lets a task's watch link read its diff but not apply it; an operator link applies", async () => {
    const dir = repo();
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "fix it", cwd: dir, agent: "vm-git", executor: "gemini-flash" },
    });
    const task = await settled(created.body.task_id);
    const watch = new URL(task.watch_url).hash.match(/token=([^&]+)/)?.[1] ?? "";
    const asWatcher = await fetch(`${mesh.url}/api/tasks/${task.task_id}/diff`, {
      headers: { authorization: `Bearer ${decodeURIComponent(watch)}` },
    });
    expect(asWatcher.status).toBe(200);
    expect(await asWatcher.text()).toContain("+right");
    const refused = await mesh.api(`/api/tasks/${task.task_id}/apply`, {
      method: "POST",
      token: decodeURIComponent(watch),
    });
    expect(refused.status).toBe(403);
    const operator = await mesh.api<{ token: string }>("/api/links", { method: "POST", body: { operator: true } });
    const applied = await mesh.api<TaskView>(`/api/tasks/${task.task_id}/apply`, {
      method: "POST",
      token: operator.body.token,
    });
    expect(applied.status).toBe(200);
    expect(readFileSync(join(dir, "fixed.txt"), "utf8")).toBe("right\n");
  });
});

describe("apply refusals change nothing", () => {
  async function succeededIn(dir: string): Promise<TaskView> {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "fix it", cwd: dir, agent: "vm-git", executor: "gemini-flash" },
    });
    const task = await settled(created.body.task_id);
    expect(task.status).toBe("succeeded");
    return task;
  }

  it("refuses a dirty checkout with checkout_dirty, naming the file", async () => {
    const dir = repo();
    const task = await succeededIn(dir);
    writeFileSync(join(dir, "README.md"), "edited by the user\n");
    const head = git(dir, "rev-parse", "HEAD");
    const refused = await mesh.api<{ error: { code: string; message: string } }>(`/api/tasks/${task.task_id}/apply`, {
      method: "POST",
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("checkout_dirty");
    expect(refused.body.error.message).toContain("README.md");
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("edited by the user\n");
    expect(readFileSync(join(dir, "fixed.txt"), "utf8")).toBe("broken\n");
  });

  it("refuses a conflicting change with apply_conflict, naming the file, and leaves no merge behind", async () => {
    const dir = repo();
    const task = await succeededIn(dir);
    writeFileSync(join(dir, "fixed.txt"), "fixed differently by the user\n");
    git(dir, "commit", "-qam", "the user's own fix");
    const head = git(dir, "rev-parse", "HEAD");
    const refused = await mesh.api<{ error: { code: string; message: string } }>(`/api/tasks/${task.task_id}/apply`, {
      method: "POST",
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("apply_conflict");
    expect(refused.body.error.message).toContain("fixed.txt");
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    expect(git(dir, "status", "--porcelain")).toBe("");
  });

  it("refuses with agent_offline when the agent that ran it is gone", async () => {
    const dir = repo();
    const lone = await startAgent(
      mesh,
      "vm-lone",
      { executors: { "gemini-flash": writer("lone", "fixed.txt=right") } },
      { args: ["--state-dir", agentState("vm-lone")] },
    );
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "fix it", cwd: dir, agent: "vm-lone", executor: "gemini-flash" },
    });
    const task = await settled(created.body.task_id);
    await lone.stop();
    await waitFor(
      "vm-lone to be offline",
      async () =>
        (await mesh.api<{ agents: Array<{ name: string; state: string }> }>("/api/agents")).body.agents.find(
          (a) => a.name === "vm-lone",
        )?.state !== "online",
    );
    const refused = await mesh.api<{ error: { code: string } }>(`/api/tasks/${task.task_id}/apply`, { method: "POST" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("agent_offline");
    expect(readFileSync(join(dir, "fixed.txt"), "utf8")).toBe("broken\n");
  });
});

describe("cleanup", () => {
  it("leaves no stale worktree after an agent is killed mid-attempt and restarted, once the task has ended", async () => {
    const dir = repo();
    const name = "vm-killed";
    const slow = { executors: { "gemini-flash": writer("slow", "fixed.txt=half", "sleep=30000") } };
    const options = { args: ["--state-dir", agentState(name)] };
    const first = await startAgent(mesh, name, slow, options);
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "fix it", cwd: dir, agent: name, executor: "gemini-flash" },
    });
    await waitFor(
      "the attempt to run",
      async () => (await mesh.task(created.body.task_id)).attempts[0]?.status === "running",
    );
    // The worktree is made once the room accepted the attempt: just after it reads "running".
    await waitFor("the attempt's worktree", () => git(dir, "worktree", "list").split("\n").length === 2);
    first.process.kill("SIGKILL");
    await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
    const again = await startAgent(mesh, name, slow, options);
    try {
      const left = (): string[] =>
        readdirSync(join(agentState(name), "worktrees")).flatMap((repoKey) =>
          readdirSync(join(agentState(name), "worktrees", repoKey)),
        );
      await waitFor(
        "the stale worktree to go",
        () => git(dir, "worktree", "list").split("\n").length === 1 && left().length === 0,
      );
      expect(git(dir, "worktree", "list").split("\n")).toHaveLength(1);
    } finally {
      await again.stop();
    }
  });
});
