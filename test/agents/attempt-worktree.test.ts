// The git of one attempt, on real repositories: worktrees from a base, commits and diffs, merging.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cutAtFileBoundary, finishWorkspace } from "../../agents/runtime/attempt-commit.ts";
import { prepareWorkspace, removeWorkspace, type WorktreeWorkspace } from "../../agents/runtime/attempt-worktree.ts";
import { applyBranch } from "../../agents/runtime/local-apply.ts";
import { tempDirs } from "../temp-dirs.ts";
import { committedRepo, git } from "./git-repo.ts";

const temp = tempDirs();

const repo = (): string =>
  committedRepo(
    temp("mesh-wt-repo-"),
    { "src/a.ts": "export const a = 1;\n", "old.txt": "to be deleted\n", ".gitignore": "*.log\n" },
    "main",
  );

async function worktreeOf(dir: string, attempt = 1, cwd = dir, base?: string): Promise<WorktreeWorkspace> {
  const prepared = await prepareWorkspace(
    { taskId: "01TASK", taskName: "fix-it", attempt, tier: "sonnet", cwd, ...(base === undefined ? {} : { base }) },
    { worktreesDir: temp("mesh-wt-dir-") },
  );
  if (!prepared.ok || prepared.value.isolation !== "worktree")
    throw new Error(`no worktree: ${JSON.stringify(prepared)}`);
  return prepared.value;
}

describe("an attempt's worktree", () => {
  it("starts at the base on its own branch, maps a subfolder cwd, and leaves the checkout alone", async () => {
    const dir = repo();
    writeFileSync(join(dir, "src/a.ts"), "dirty in the checkout\n");
    const ws = await worktreeOf(dir, 2, join(dir, "src"));
    expect(ws.branch).toBe("mesh/fix-it/2-sonnet");
    expect(ws.base).toBe(git(dir, "rev-parse", "HEAD"));
    expect(ws.targetBranch).toBe("main");
    expect(ws.cwd).toBe(join(ws.worktree, "src"));
    expect(readFileSync(join(ws.cwd, "a.ts"), "utf8")).toBe("export const a = 1;\n");
    expect(ws.worktree.startsWith(dir)).toBe(false);
    expect(git(dir, "status", "--porcelain")).toBe("M src/a.ts");
  });

  it("runs in place outside git, or when asked, and says why; refuses a bad base_ref or a missing cwd", async () => {
    const plain = temp("mesh-wt-plain-");
    expect(
      await prepareWorkspace({ taskId: "T", attempt: 1, tier: "x", cwd: plain }, { worktreesDir: plain }),
    ).toMatchObject({
      ok: true,
      value: { isolation: "none", reason: expect.stringContaining("not inside a git repository") },
    });
    const dir = repo();
    expect(
      await prepareWorkspace(
        { taskId: "T", attempt: 1, tier: "x", cwd: dir, isolation: "none" },
        { worktreesDir: plain },
      ),
    ).toMatchObject({ ok: true, value: { isolation: "none", cwd: dir } });
    expect(
      await prepareWorkspace(
        { taskId: "T", attempt: 1, tier: "x", cwd: dir, base: "no-such-branch" },
        { worktreesDir: plain },
      ),
    ).toMatchObject({
      ok: false,
      error: { failure_class: "syntax_error", message: expect.stringContaining("base_ref 'no-such-branch'") },
    });
    expect(
      await prepareWorkspace(
        { taskId: "T", attempt: 1, tier: "x", cwd: join(dir, "missing") },
        { worktreesDir: plain },
      ),
    ).toMatchObject({
      ok: false,
      error: { failure_class: "syntax_error", message: expect.stringContaining("is not a directory") },
    });
  });

  it("commits new, changed, deleted and binary files (not ignored ones) as one commit whose diff applies at the base", async () => {
    const dir = repo();
    const ws = await worktreeOf(dir);
    writeFileSync(join(ws.worktree, "src/a.ts"), "export const a = 2;\n");
    writeFileSync(join(ws.worktree, "new.txt"), "new\n");
    writeFileSync(join(ws.worktree, "image.bin"), Buffer.from([0, 1, 2, 255, 254]));
    writeFileSync(join(ws.worktree, "debug.log"), "ignored\n");
    unlinkSync(join(ws.worktree, "old.txt"));
    const finished = await finishWorkspace(ws, { tier: "sonnet" });
    if (!finished.ok) throw new Error(finished.error);
    const work = finished.value;
    expect(work.commit).toBe(git(ws.worktree, "rev-parse", "HEAD"));
    expect(git(ws.worktree, "log", "-1", "--format=%an <%ae>")).toBe("agent-mesh <sonnet@agent-mesh.local>");
    expect(work.diffStat).toEqual({ files: 4, insertions: 2, deletions: 2 });
    expect(work.changedFiles.sort()).toEqual(["image.bin", "new.txt", "old.txt", "src/a.ts"]);
    expect(work.diffTruncated).toBe(false);
    const clone = temp("mesh-wt-clone-");
    git(clone, "clone", "-q", dir, ".");
    writeFileSync(join(clone, "p.diff"), work.diff);
    git(clone, "apply", "p.diff");
    expect([...readFileSync(join(clone, "image.bin"))]).toEqual([0, 1, 2, 255, 254]);
    expect(existsSync(join(clone, "old.txt"))).toBe(false);
    expect(git(dir, "status", "--porcelain")).toBe("");
  });

  it("ignores the user's diff settings and hooks: the patch still applies, and a failing hook stops nothing", async () => {
    const dir = repo();
    git(dir, "config", "diff.noprefix", "true");
    git(dir, "config", "color.diff", "always");
    mkdirSync(join(dir, "hooks"));
    for (const hook of ["pre-commit", "post-checkout", "commit-msg"])
      writeFileSync(join(dir, "hooks", hook), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    git(dir, "config", "core.hooksPath", join(dir, "hooks"));
    const ws = await worktreeOf(dir);
    writeFileSync(join(ws.worktree, "src/a.ts"), "export const a = 5;\n");
    const finished = await finishWorkspace(ws, { tier: "t" });
    if (!finished.ok) throw new Error(finished.error);
    expect(finished.value.diff).toContain("diff --git a/src/a.ts b/src/a.ts");
    expect(finished.value.diff).not.toContain("\u001b[");
    const clone = temp("mesh-wt-clone-");
    execFileSync("git", ["clone", "-q", dir, "."], { cwd: clone });
    writeFileSync(join(clone, "p.diff"), finished.value.diff);
    execFileSync("git", ["-c", "core.hooksPath=/dev/null", "apply", "p.diff"], { cwd: clone });
    expect(readFileSync(join(clone, "src/a.ts"), "utf8")).toBe("export const a = 5;\n");
  });

  it("makes no empty commit when nothing changed, and keeps a commit the CLI made itself", async () => {
    const dir = repo();
    const idle = await worktreeOf(dir, 1);
    expect(await finishWorkspace(idle, { tier: "t" })).toEqual({
      ok: true,
      value: { diffStat: { files: 0, insertions: 0, deletions: 0 }, diff: "", diffTruncated: false, changedFiles: [] },
    });
    const busy = await worktreeOf(dir, 2);
    writeFileSync(join(busy.worktree, "self.txt"), "committed by the CLI\n");
    git(busy.worktree, "add", ".");
    git(busy.worktree, "commit", "-qm", "the CLI's own commit");
    writeFileSync(join(busy.worktree, "later.txt"), "left uncommitted\n");
    const finished = await finishWorkspace(busy, { tier: "t" });
    expect(finished).toMatchObject({ ok: true, value: { diffStat: { files: 2 } } });
  });

  it("cuts a diff past the cap at a file boundary and flags it", async () => {
    const dir = repo();
    const ws = await worktreeOf(dir);
    writeFileSync(join(ws.worktree, "a-small.txt"), "small\n");
    writeFileSync(join(ws.worktree, "b-large.txt"), "x".repeat(200_000));
    const finished = await finishWorkspace(ws, { tier: "t", maxDiffBytes: 50_000 });
    if (!finished.ok) throw new Error(finished.error);
    expect(finished.value.diffTruncated).toBe(true);
    expect(finished.value.diff).toContain("a-small.txt");
    expect(finished.value.diff).not.toContain("b-large.txt");
    expect(finished.value.diffStat.files).toBe(2);
    expect(cutAtFileBoundary("diff --git a b\n+x\n", 100)).toEqual({ text: "diff --git a b\n+x\n", truncated: false });
  });

  it("removes a worktree whose repository was deleted", async () => {
    const dir = repo();
    const ws = await worktreeOf(dir);
    rmSync(dir, { recursive: true, force: true });
    await removeWorkspace(ws);
    expect(existsSync(ws.worktree)).toBe(false);
  });

  it("removes the worktree but keeps the branch", async () => {
    const dir = repo();
    const ws = await worktreeOf(dir);
    await removeWorkspace(ws);
    expect(existsSync(ws.worktree)).toBe(false);
    expect(git(dir, "worktree", "list").split("\n")).toHaveLength(1);
    expect(git(dir, "branch", "--list", ws.branch)).toContain(ws.branch);
  });
});

describe("applying a branch", () => {
  async function committed(dir: string, file: string, text: string, attempt = 1): Promise<WorktreeWorkspace> {
    const ws = await worktreeOf(dir, attempt);
    writeFileSync(join(ws.worktree, file), text);
    const finished = await finishWorkspace(ws, { tier: "t" });
    if (!finished.ok) throw new Error(finished.error);
    return ws;
  }

  it("fast-forwards, then says it is already applied", async () => {
    const dir = repo();
    const ws = await committed(dir, "fix.txt", "fixed\n");
    const applied = await applyBranch({ repo: dir, branch: ws.branch, targetBranch: "main", base: ws.base });
    expect(applied).toMatchObject({ ok: true, value: { fastForward: true, alreadyApplied: false } });
    expect(readFileSync(join(dir, "fix.txt"), "utf8")).toBe("fixed\n");
    expect(await applyBranch({ repo: dir, branch: ws.branch, targetBranch: "main", base: ws.base })).toMatchObject({
      ok: true,
      value: { alreadyApplied: true },
    });
  });

  it("makes a merge commit when the checkout moved on without conflict", async () => {
    const dir = repo();
    const ws = await committed(dir, "fix.txt", "fixed\n");
    writeFileSync(join(dir, "other.txt"), "the user's work\n");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "meanwhile");
    const applied = await applyBranch({ repo: dir, branch: ws.branch, targetBranch: "main", base: ws.base });
    expect(applied).toMatchObject({ ok: true, value: { fastForward: false, alreadyApplied: false } });
    expect(git(dir, "log", "-1", "--format=%P").split(" ")).toHaveLength(2);
  });

  it("refuses a dirty checkout, a conflict and another branch, changing nothing", async () => {
    const dir = repo();
    const ws = await committed(dir, "src/a.ts", "export const a = 3;\n");
    const head = git(dir, "rev-parse", "HEAD");
    writeFileSync(join(dir, "untracked.txt"), "x\n");
    expect(await applyBranch({ repo: dir, branch: ws.branch, targetBranch: "main", base: ws.base })).toMatchObject({
      ok: false,
      error: { code: "checkout_dirty", files: ["untracked.txt"] },
    });
    unlinkSync(join(dir, "untracked.txt"));
    writeFileSync(join(dir, "src/a.ts"), "export const a = 4;\n");
    git(dir, "commit", "-qam", "the user's change");
    const moved = git(dir, "rev-parse", "HEAD");
    expect(await applyBranch({ repo: dir, branch: ws.branch, targetBranch: "main", base: ws.base })).toMatchObject({
      ok: false,
      error: { code: "apply_conflict", files: ["src/a.ts"] },
    });
    expect(git(dir, "rev-parse", "HEAD")).toBe(moved);
    expect(git(dir, "status", "--porcelain")).toBe("");
    git(dir, "checkout", "-q", "-b", "elsewhere");
    expect(await applyBranch({ repo: dir, branch: ws.branch, targetBranch: "main", base: ws.base })).toMatchObject({
      ok: false,
      error: { code: "wrong_branch" },
    });
    expect(head).not.toBe(moved);
  });
});
