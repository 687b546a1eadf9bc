// Faults that name their cause, and CLIs that work only where they are told (docs/faults.md), on a
// real server with real agents from dist/, real git and real file systems. Tests run as root (CI
// too), where chmod 0555 stops nothing: the read-only directory is a tmpfs mounted `ro`, the full
// one a 1 MB tmpfs filled up; where this process may not mount, a file in the directory's place
// stands in for the read-only one and the full one is skipped.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentRecord, ExecutorSpec, TaskView } from "../../protocol/index.ts";
import { committedRepo } from "../agents/git-repo.ts";
import { tempDirs } from "../temp-dirs.ts";
import { tmpfsMounts } from "../tmpfs-mounts.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
const agents: TestAgent[] = [];
const writer = (label: string, ...writes: string[]): ExecutorSpec => ({
  command: [process.execPath, join(FIXTURES, "git-writer.mjs"), label, ...writes],
  format: "text",
  timeout_s: 60,
});
const everyTier = (spec: ExecutorSpec) => ({
  executors: { deepseek: spec, "gemini-flash": spec, "gemini-pro": spec, codex: spec, sonnet: spec, opus: spec },
});

// Removed and unmounted after the agents and the mesh have stopped (after-hooks run last-registered first).
const temp = tempDirs("all");
const mountTmpfs = tmpfsMounts("all");
const repo = (): string => committedRepo(temp("mesh-fault-repo-"), { "README.md": "project\n" }, "main");

async function agentRecord(name: string): Promise<AgentRecord | undefined> {
  const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
  return body.agents.find((agent) => agent.name === name);
}
async function post(body: Record<string, unknown>): Promise<TaskView> {
  const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "do it", ...body } });
  expect(created.status).toBe(201);
  return mesh.finished(created.body.task_id);
}
async function logsOf(taskId: string): Promise<Array<{ text: string; attempt: number }>> {
  return (await mesh.api<{ lines: Array<{ text: string; attempt: number }> }>(`/api/tasks/${taskId}/logs`)).body.lines;
}

// A directory that goes read-only under a running agent (a tmpfs remounted `ro`), and back.
const readOnly = temp("mesh-fault-ro-");
const mountedReadOnly = mountTmpfs(readOnly, "size=1m");
const readOnlyDir = mountedReadOnly ? readOnly : join(readOnly, "worktrees");
const makeReadOnly = (): void => {
  if (mountedReadOnly) execFileSync("mount", ["-o", "remount,ro", readOnly]);
  else {
    rmSync(readOnlyDir, { recursive: true, force: true });
    writeFileSync(readOnlyDir, "a file where the directory should be\n");
  }
};
const makeWritable = (): void =>
  mountedReadOnly ? void execFileSync("mount", ["-o", "remount,rw", readOnly]) : rmSync(readOnlyDir);
const readOnlyWords = mountedReadOnly ? /is not writable \(EROFS/ : /is not a directory \((EEXIST|ENOTDIR)/;
// One that is unusable when its agent starts: a file where the directory should be.
const unusableAtStart = join(temp("mesh-fault-start-"), "worktrees");
writeFileSync(unusableAtStart, "a file where the directory should be\n");
// A 1 MB tmpfs that fills up under a running agent.
const full = temp("mesh-fault-full-");
const mountedFull = mountTmpfs(full, "size=1m");
const fill = (): void => {
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${join(full, "filler")}`, "bs=64k", "count=64"], { stdio: "ignore" });
  } catch {
    // dd stops at ENOSPC: full, as wanted.
  }
};
// The agent's own directory, as `npm run agent` leaves it in PWD and INIT_CWD.
const agentOwnDir = temp("mesh-fault-agent-own-");
// The checkout a CLI writes into by absolute path.
const strayRepo = repo();

beforeAll(async () => {
  // The page too: the dashboard's agents table must show the degraded agent.
  mesh = await startMesh({}, { page: true });
  // Tasks without a cwd run in --workdir: a folder of the test's, never the checkout the tests run from.
  const workdir = temp("mesh-fault-workdir-");
  agents.push(
    await startAgent(mesh, "vm-ro", everyTier(writer("ro", "a.txt=a")), {
      args: ["--worktrees", readOnlyDir, "--workdir", workdir],
    }),
  );
  agents.push(
    await startAgent(mesh, "vm-start", everyTier(writer("start", "a.txt=a")), {
      args: ["--worktrees", unusableAtStart, "--workdir", workdir],
    }),
  );
  if (mountedFull)
    agents.push(
      await startAgent(mesh, "vm-full", everyTier(writer("full", "a.txt=a")), { args: ["--worktrees", full] }),
    );
  // Two Macs, the degraded one first by name (the picker's tie-break): unpinned worktree tasks for "mac" must skip it.
  const macStart = join(temp("mesh-fault-mac-"), "worktrees");
  writeFileSync(macStart, "a file where the directory should be\n");
  agents.push(
    await startAgent(mesh, "mac-a-degraded", everyTier(writer("mac-a", "a.txt=a")), {
      kind: "mac",
      args: ["--worktrees", macStart, "--workdir", workdir],
    }),
  );
  agents.push(
    await startAgent(mesh, "mac-b-healthy", everyTier(writer("mac-b", "a.txt=a")), {
      kind: "mac",
      args: ["--worktrees", temp("mesh-fault-mac-wt-"), "--workdir", workdir],
    }),
  );
  agents.push(
    await startAgent(
      mesh,
      "vm-pwd",
      {
        executors: {
          // A CLI that trusts $PWD, as opencode does; then one that writes into the user's checkout by absolute path.
          sonnet: {
            command: [process.execPath, join(FIXTURES, "pwd-writer.mjs"), "by-pwd.txt"],
            format: "text",
            timeout_s: 60,
          },
          deepseek: writer("stray", "inside.txt=mine", `${join(strayRepo, "stray.txt")}=oops`),
          "gemini-flash": writer("flash", "inside.txt=mine"),
        },
      },
      { env: { PWD: agentOwnDir, INIT_CWD: agentOwnDir } },
    ),
  );
}, 90_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
});

describe("a worktrees directory that cannot be written", () => {
  it("ends the attempt disk_full with the path (never agent_lost), shows the agent degraded, refuses a pinned worktree task at once, still serves a task without a cwd, and serves worktrees again once fixed", async () => {
    const dir = repo();
    makeReadOnly();
    const failed = await post({ cwd: dir, agent: "vm-ro" });
    expect(failed.status).toBe("failed");
    expect(failed.attempts.map((a) => a.failure_class)).toEqual(["disk_full"]);
    expect(failed.error?.code).toBe("disk_full");
    expect(failed.error?.message).toContain(`the worktrees directory ${readOnlyDir}`);
    expect(failed.error?.message).toMatch(readOnlyWords);
    expect(failed.error?.message).toContain("give the agent --worktrees");

    const record = await agentRecord("vm-ro");
    expect(record?.state).toBe("online");
    expect(record?.degraded?.worktree).toContain(readOnlyDir);

    const plain = await post({ agent: "vm-ro" });
    expect(plain.status).toBe("succeeded");

    // While degraded, a worktree task pinned to it fails at once (its queue timeout of 600 s is far past
    // mesh.finished's wait), without reaching the agent, naming the agent, the directory and what to do.
    const refused = await post({ cwd: dir, agent: "vm-ro", queue_timeout_s: 600 });
    expect(refused.status).toBe("failed");
    expect(refused.attempts.map((a) => [a.failure_class, a.agent])).toEqual([["disk_full", null]]);
    expect(refused.error?.code).toBe("disk_full");
    expect(refused.error?.message).toContain(
      `agent vm-ro cannot make the attempt's worktree now: the worktrees directory ${readOnlyDir}`,
    );
    expect(refused.error?.message).toContain('pinned to it (agent "vm-ro")');

    makeWritable();
    await waitFor(
      "vm-ro to make worktrees again",
      async () => (await agentRecord("vm-ro"))?.degraded === undefined,
      30_000,
    );
    const served = await post({ cwd: dir, agent: "vm-ro" });
    expect(served.status).toBe("succeeded");
    expect(served.attempts[0]).toMatchObject({ isolation: "worktree" });
  });

  it("starts degraded when the directory is unusable at its start: shown at once, and no worktree task is sent to it", async () => {
    const record = await agentRecord("vm-start");
    expect(record?.degraded?.worktree).toContain(`the worktrees directory ${unusableAtStart} is not a directory`);
    const agent = agents.find((a) => a.name === "vm-start");
    expect(agent?.output.join("\n")).toContain("taking no tasks that need a worktree until it works again");
    expect((await post({ agent: "vm-start" })).status).toBe("succeeded");
    const refused = await post({ cwd: repo(), agent: "vm-start", queue_timeout_s: 600 });
    expect(refused.attempts.map((a) => [a.failure_class, a.agent])).toEqual([["disk_full", null]]);
    expect(refused.error?.message).toContain(
      `agent vm-start cannot make the attempt's worktree now: the worktrees directory ${unusableAtStart} is not a directory`,
    );
  });

  it("sends unpinned worktree tasks to the healthy agent of two, one of them degraded, and they succeed", async () => {
    expect((await agentRecord("mac-a-degraded"))?.degraded?.worktree).toContain("is not a directory");
    const dir = repo();
    for (const _ of [1, 2]) {
      const task = await post({ cwd: dir, agent: "mac" });
      expect(task.status).toBe("succeeded");
      expect(task.attempts.map((a) => [a.agent, a.isolation])).toEqual([["mac-b-healthy", "worktree"]]);
    }
  });

  it("flags the degraded agent's worktrees on the dashboard's agents table, with why", async () => {
    const profile = temp("mesh-fault-chromium-");
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    try {
      const link = (await mesh.api<{ url: string }>("/api/links", { method: "POST", body: {} })).body.url;
      const page = await browser.newPage();
      await page.goto(link);
      const flag = page.locator('[data-testid="agents"] [data-agent="vm-start"] [data-testid="worktree-degraded"]');
      await waitFor("the degraded flag", async () => (await flag.count()) === 1);
      expect(await flag.textContent()).toContain(
        `no worktrees now: the worktrees directory ${unusableAtStart} is not a directory`,
      );
      expect(
        await page.locator('[data-testid="agents"] [data-agent="vm-pwd"] [data-testid="worktree-degraded"]').count(),
      ).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it.skipIf(!mountedFull)(
    "ends the attempt disk_full naming a full directory and ENOSPC, not syntax_error",
    async () => {
      fill();
      const failed = await post({ cwd: repo(), agent: "vm-full" });
      expect(failed.attempts.map((a) => a.failure_class)).toEqual(["disk_full"]);
      expect(failed.error?.message).toContain(`the worktrees directory ${full} is full (ENOSPC`);
      expect(failed.error?.message).toContain(`free space in ${full}`);
      expect((await agentRecord("vm-full"))?.degraded?.worktree).toContain("ENOSPC");
    },
  );
});

describe("a CLI works only where it is told", () => {
  it("a CLI that trusts PWD writes only in its worktree, never in the agent's own directory or the checkout", async () => {
    const dir = repo();
    const task = await post({ cwd: dir, agent: "vm-pwd", executor: "sonnet" });
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]?.changed_files).toEqual(["by-pwd.txt"]);
    expect(existsSync(join(agentOwnDir, "by-pwd.txt"))).toBe(false);
    expect(existsSync(join(dir, "by-pwd.txt"))).toBe(false);
  });

  it("a CLI that writes into the source checkout fails wrong_file naming the path; the file is left for the user", async () => {
    const dir = strayRepo;
    const task = await post({ cwd: dir, agent: "vm-pwd" });
    expect(task.attempts.map((a) => [a.tier, a.failure_class ?? null])).toEqual([
      ["deepseek", "wrong_file"],
      ["gemini-flash", null],
    ]);
    const lines = await logsOf(task.task_id);
    expect(
      lines.some(
        (line) =>
          line.attempt === 1 && line.text.includes(`the CLI changed files outside its worktree, in ${dir}: stray.txt`),
      ),
    ).toBe(true);
    expect(readFileSync(join(dir, "stray.txt"), "utf8")).toBe("oops\n");
  });
});
