// Removing worktrees on real repositories (issue 12, point 9): one attempt's, every ended task's
// after a restart (git's bookkeeping pruned), and the disk they use.
import { existsSync, rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { cleanupWorktrees, removeWorkspace, worktreesDiskBytes } from "../../../agents/runtime/worktree/index.ts";
import { git, removeTemporaryFolders, temporaryFolder, userRepository, worktreeFor, writeFile } from "./temp-repository.ts";

afterEach(removeTemporaryFolders);

const worktreeCount = (repo: string): number => git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length ?? 0;

describe("removeWorkspace", () => {
  it("removes the worktree, even with uncommitted files, and keeps the branch", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    writeFile(ws.worktree, "uncommitted.txt", "x\n");
    expect(await removeWorkspace(ws)).toEqual({ ok: true, value: null });
    expect(existsSync(ws.worktree)).toBe(false);
    expect(worktreeCount(repo)).toBe(1);
    expect(git(repo, "rev-parse", ws.branch)).toBe(ws.base);
  });

  it("removes the folder and prunes git's record when git cannot remove it (its folder was already deleted)", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    rmSync(ws.worktree, { recursive: true, force: true });
    expect((await removeWorkspace(ws)).ok).toBe(true);
    expect(worktreeCount(repo)).toBe(1);
  });
});

describe("cleanupWorktrees", () => {
  it("removes the worktrees of ended tasks only, across repositories, and leaves git worktree list clean", async () => {
    const [one, two] = [userRepository(), userRepository()];
    const worktreesDir = temporaryFolder("mesh-wt-dir-");
    const ended = [await worktreeFor(one, worktreesDir, { taskId: "01ENDED", taskName: undefined, attempt: 1 }), await worktreeFor(one, worktreesDir, { taskId: "01ENDED", taskName: undefined, attempt: 2 }), await worktreeFor(two, worktreesDir, { taskId: "01ENDED", taskName: undefined, attempt: 1 })];
    const running = await worktreeFor(one, worktreesDir, { taskId: "01RUNNING", taskName: undefined, attempt: 1 });
    expect(await worktreesDiskBytes(worktreesDir)).toBeGreaterThan(0);

    const asked: string[] = [];
    const report = await cleanupWorktrees(worktreesDir, async (taskId) => {
      asked.push(taskId);
      return taskId === "01ENDED";
    });
    expect(asked.sort()).toEqual(["01ENDED", "01ENDED", "01RUNNING"]);
    expect(report.removed.sort()).toEqual(ended.map((ws) => ws.worktree).sort());
    expect(report.kept).toEqual([running.worktree]);
    for (const ws of ended) expect(existsSync(ws.worktree)).toBe(false);
    expect(existsSync(running.worktree)).toBe(true);
    expect(worktreeCount(one)).toBe(2);
    expect(worktreeCount(two)).toBe(1);
    expect(git(one, "worktree", "list")).not.toContain("prunable");
    // Branches stay.
    expect(git(one, "branch", "--list", "mesh/*").split("\n")).toHaveLength(3);
  });

  it("reports 0 bytes and nothing to do for a worktrees folder that does not exist yet", async () => {
    const missing = `${temporaryFolder("mesh-wt-dir-")}/not-yet`;
    expect(await worktreesDiskBytes(missing)).toBe(0);
    expect(await cleanupWorktrees(missing, () => true)).toEqual({ removed: [], kept: [] });
  });
});
