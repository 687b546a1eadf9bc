// Spare worktrees per repository (docs/repositories.md "Warm worktrees"), on real repositories:
// hits and misses, what a reset leaves, damaged spares, a full pool, the kept result.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAgentOptions } from "../../agents/runtime/agent-options.ts";
import { finishWorkspace } from "../../agents/runtime/attempt-commit.ts";
import { prepareWorkspace, type WorktreeWorkspace } from "../../agents/runtime/attempt-worktree.ts";
import { WARM_FOLDER, WARM_LOCK_REASON, WarmWorktreePool } from "../../agents/runtime/warm-worktree-pool.ts";
import { WorktreeKeeper } from "../../agents/runtime/worktree-keeper.ts";
import type { TaskAssign } from "../../protocol/index.ts";
import { tempDirs } from "../temp-dirs.ts";
import { committedRepo, git } from "./git-repo.ts";

const temp = tempDirs();

const repo = (): string =>
  committedRepo(
    temp("mesh-pool-repo-"),
    { "src/a.ts": "export const a = 1;\n", ".gitignore": "*.log\nnode_modules/\n" },
    "main",
  );

async function attempt(
  dir: string,
  worktreesDir: string,
  pool: WarmWorktreePool,
  n: number,
  base?: string,
): Promise<WorktreeWorkspace> {
  const prepared = await prepareWorkspace(
    { taskId: "T1", attempt: n, tier: "sonnet", cwd: dir, ...(base === undefined ? {} : { base }) },
    { worktreesDir, spares: pool },
  );
  if (!prepared.ok || prepared.value.isolation !== "worktree")
    throw new Error(`no worktree: ${JSON.stringify(prepared)}`);
  return prepared.value;
}

/** The previous attempt's leftovers: a change, a new file, an ignored file and an ignored folder, one commit. */
function dirty(ws: WorktreeWorkspace): void {
  writeFileSync(join(ws.worktree, "src/a.ts"), "changed by the attempt\n");
  writeFileSync(join(ws.worktree, "new.ts"), "new\n");
  writeFileSync(join(ws.worktree, "debug.log"), "ignored\n");
  mkdirSync(join(ws.worktree, "node_modules/x"), { recursive: true });
  writeFileSync(join(ws.worktree, "node_modules/x/index.js"), "ignored\n");
}

const spares = (worktreesDir: string): string[] =>
  readdirSync(join(worktreesDir, WARM_FOLDER)).flatMap((key) =>
    readdirSync(join(worktreesDir, WARM_FOLDER, key)).map((name) => join(worktreesDir, WARM_FOLDER, key, name)),
  );

for (const eagerReset of [true, false]) {
  describe(`a warm worktree (${eagerReset ? "eager" : "lazy"} reset)`, () => {
    it("is taken by the next attempt on a new branch at its base, holding no file of the previous attempt (ignored ones included)", async () => {
      const dir = repo();
      const worktreesDir = temp("mesh-pool-wt-");
      const pool = new WarmWorktreePool({ worktreesDir, size: 2, eagerReset });
      const first = await attempt(dir, worktreesDir, pool, 1);
      dirty(first);
      const finished = await finishWorkspace(first, { tier: "sonnet" });
      expect(finished.ok).toBe(true);
      // Untracked again after the commit: a straggler's file, and one the commit left out.
      writeFileSync(join(first.worktree, "late.txt"), "written after the commit\n");
      await pool.give(first.repo, first.worktree);
      expect(existsSync(first.worktree)).toBe(false);
      expect(pool.count(dir)).toBe(1);
      const [parked] = spares(worktreesDir);
      // The attempt's branch is let go (detached), kept with its commit; git says what the spare is.
      expect(git(dir, "worktree", "list", "--porcelain")).toContain(
        `worktree ${parked}\nHEAD ${git(dir, "rev-parse", first.branch)}\ndetached\nlocked ${WARM_LOCK_REASON}`,
      );

      git(dir, "commit", "-q", "--allow-empty", "-m", "moved on");
      const second = await attempt(dir, worktreesDir, pool, 2);
      expect(pool.count(dir)).toBe(0);
      expect(second.worktree).not.toBe(first.worktree);
      expect(existsSync(second.worktree)).toBe(true);
      expect(git(second.worktree, "symbolic-ref", "--short", "HEAD")).toBe(second.branch);
      expect(git(second.worktree, "rev-parse", "HEAD")).toBe(git(dir, "rev-parse", "main"));
      expect(readFileSync(join(second.worktree, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
      for (const left of ["new.ts", "debug.log", "node_modules", "late.txt"])
        expect(existsSync(join(second.worktree, left))).toBe(false);
      expect(git(second.worktree, "status", "--porcelain", "--ignored")).toBe("");
      // No longer locked: the attempt's worktree is an ordinary one, which git may remove.
      expect(git(dir, "worktree", "list", "--porcelain")).not.toContain("locked");
      // The previous attempt's work is still on its branch.
      expect(git(dir, "show", `${first.branch}:src/a.ts`)).toBe("changed by the attempt");
    });
  });
}

describe("the pool", () => {
  it("misses when it is empty, and a full pool removes a released worktree as before", async () => {
    const dir = repo();
    const worktreesDir = temp("mesh-pool-wt-");
    const pool = new WarmWorktreePool({ worktreesDir, size: 1 });
    expect(await pool.take(dir, join(worktreesDir, "x"), "mesh/x/1", "main")).toBe(false);
    const one = await attempt(dir, worktreesDir, pool, 1);
    const two = await attempt(dir, worktreesDir, pool, 2);
    // A first checkout is made with feature.manyFiles: its index is version 4.
    expect(
      readFileSync(git(one.worktree, "rev-parse", "--path-format=absolute", "--git-path", "index")).readUInt32BE(4),
    ).toBe(4);
    await Promise.all([pool.give(one.repo, one.worktree), pool.give(two.repo, two.worktree)]);
    expect(pool.count(dir)).toBe(1);
    expect(spares(worktreesDir)).toHaveLength(1);
    expect(existsSync(one.worktree) || existsSync(two.worktree)).toBe(false);
    expect(git(dir, "worktree", "list").split("\n")).toHaveLength(2);
  });

  it("of size 0 keeps nothing", async () => {
    const dir = repo();
    const worktreesDir = temp("mesh-pool-wt-");
    const pool = new WarmWorktreePool({ worktreesDir, size: 0 });
    const one = await attempt(dir, worktreesDir, pool, 1);
    await pool.give(one.repo, one.worktree);
    expect(pool.count(dir)).toBe(0);
    expect(git(dir, "worktree", "list").split("\n")).toHaveLength(1);
  });

  it("drops a spare whose folder is gone or no longer a worktree, and the attempt gets a fresh one", async () => {
    const dir = repo();
    const worktreesDir = temp("mesh-pool-wt-");
    const logged: string[] = [];
    const pool = new WarmWorktreePool({ worktreesDir, size: 2, log: (line) => logged.push(line) });
    const one = await attempt(dir, worktreesDir, pool, 1);
    const two = await attempt(dir, worktreesDir, pool, 2);
    await pool.give(one.repo, one.worktree);
    await pool.give(two.repo, two.worktree);
    const [first, second] = spares(worktreesDir);
    if (first === undefined || second === undefined) throw new Error("two spares expected");
    rmSync(first, { recursive: true, force: true });
    rmSync(join(second, ".git"));
    const three = await attempt(dir, worktreesDir, pool, 3);
    expect(logged).toHaveLength(2);
    expect(pool.count(dir)).toBe(0);
    expect(git(three.worktree, "symbolic-ref", "--short", "HEAD")).toBe(three.branch);
    expect(readFileSync(join(three.worktree, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
    // Neither damaged spare is left registered with git (the repository and this attempt's worktree only).
    expect(git(dir, "worktree", "list").split("\n")).toHaveLength(2);
    expect(existsSync(second)).toBe(false);
  });

  it("takes back a previous run's spares at start, up to its size", async () => {
    const dir = repo();
    const worktreesDir = temp("mesh-pool-wt-");
    const before = new WarmWorktreePool({ worktreesDir, size: 2 });
    const one = await attempt(dir, worktreesDir, before, 1);
    const two = await attempt(dir, worktreesDir, before, 2);
    await before.give(one.repo, one.worktree);
    await before.give(two.repo, two.worktree);
    const after = new WarmWorktreePool({ worktreesDir, size: 1 });
    await after.adopt();
    expect(after.count(dir)).toBe(1);
    expect(spares(worktreesDir)).toHaveLength(1);
    const three = await attempt(dir, worktreesDir, after, 3);
    expect(after.count(dir)).toBe(0);
    expect(git(three.worktree, "symbolic-ref", "--short", "HEAD")).toBe(three.branch);
  });
});

describe("the keeper with a pool", () => {
  const assignOf = (dir: string, attempt: number): TaskAssign => ({
    type: "task.assign",
    task_id: "T2",
    attempt,
    tier: "sonnet",
    prompt: "p",
    cwd: dir,
    base: git(dir, "rev-parse", "HEAD"),
  });

  it("never recycles the kept result; losers go to the pool and the next task reuses one", async () => {
    const dir = repo();
    const worktreesDir = temp("mesh-pool-wt-");
    const keeper = new WorktreeKeeper({ worktreesDir, keepHours: 24, log: () => {}, warmWorktrees: 2 });
    const prepared = await Promise.all([keeper.prepare(assignOf(dir, 1), dir), keeper.prepare(assignOf(dir, 2), dir)]);
    const [winner, loser] = prepared.map((result) => {
      if (!result.ok || result.value.isolation !== "worktree") throw new Error("no worktree");
      return result.value;
    });
    if (winner === undefined || loser === undefined) throw new Error("two worktrees expected");
    writeFileSync(join(winner.worktree, "result.txt"), "the result\n");
    expect((await keeper.commit(winner, "sonnet")).ok).toBe(true);
    await keeper.settle(winner, "T2", 1, true);
    await keeper.settle(loser, "T2", 2, true);
    await keeper.release("T2", 1);
    expect(keeper.pool.count(dir)).toBe(1);
    expect(readFileSync(join(winner.worktree, "result.txt"), "utf8")).toBe("the result\n");
    // Two more attempts: one takes the loser's spare, the other a new worktree; the winner's stays as it was.
    const next = await Promise.all([
      keeper.prepare({ ...assignOf(dir, 1), task_id: "T3" }, dir),
      keeper.prepare({ ...assignOf(dir, 2), task_id: "T3" }, dir),
    ]);
    expect(next.every((result) => result.ok)).toBe(true);
    expect(keeper.pool.count(dir)).toBe(0);
    expect(readFileSync(join(winner.worktree, "result.txt"), "utf8")).toBe("the result\n");
    expect(git(winner.worktree, "symbolic-ref", "--short", "HEAD")).toBe(winner.branch);
  });
});

describe("--warm-worktrees", () => {
  const parse = (...flags: string[]) =>
    parseAgentOptions(
      [
        "--kind",
        "vm",
        "--server",
        "http://127.0.0.1:1999",
        "--executors",
        "x.json",
        "--state-dir",
        temp("mesh-pool-state-"),
        ...flags,
      ],
      { MESH_AGENT_TOKEN: "t" },
    );

  it("defaults to 2, takes 0 to 16, and refuses anything else saying what to give", () => {
    expect(parse()).toMatchObject({ ok: true, value: { options: { warmWorktrees: 2 } } });
    expect(parse("--warm-worktrees", "0")).toMatchObject({ ok: true, value: { options: { warmWorktrees: 0 } } });
    expect(parse("--warm-worktrees", "16")).toMatchObject({ ok: true, value: { options: { warmWorktrees: 16 } } });
    for (const bad of ["17", "-1", "two", "1.5"])
      expect(parse(`--warm-worktrees=${bad}`)).toMatchObject({
        ok: false,
        error: { code: "bad_value", message: expect.stringContaining("from 0 to 16") },
      });
  });
});
