// prepareWorkspace on real repositories (issue 12, point 1).
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { prepareWorkspace } from "../../../agents/runtime/worktree/index.ts";
import { checkoutState, git, removeTemporaryFolders, temporaryFolder, userRepository, worktreeFor, writeFile } from "./temp-repository.ts";

afterEach(removeTemporaryFolders);

describe("prepareWorkspace", () => {
  it("makes a worktree on mesh/<name>/<n>-<tier> at HEAD, outside the repository, and leaves the checkout as it was", async () => {
    const repo = userRepository();
    writeFile(repo, "src/app.ts", "user's own edit\n");
    const before = checkoutState(repo);
    const worktreesDir = temporaryFolder("mesh-wt-dir-");
    const ws = await worktreeFor(repo, worktreesDir);
    expect(ws.branch).toBe("mesh/fix-login/1-sonnet");
    expect(ws.base).toBe(git(repo, "rev-parse", "HEAD"));
    expect(ws.base).toMatch(/^[0-9a-f]{40}$/);
    expect(ws.targetBranch).toBe("main");
    expect(ws.repo).toBe(realpathSync(repo));
    expect(ws.worktree.startsWith(join(realpathSync(worktreesDir)))).toBe(true);
    expect(ws.worktree.endsWith(join("01JTASKULID", "1-sonnet"))).toBe(true);
    expect(ws.cwd).toBe(ws.worktree);
    // The worktree holds the base's files, not the user's uncommitted edit.
    expect(readFileSync(join(ws.worktree, "src/app.ts"), "utf8")).toBe("export const app = 1;\n");
    expect(git(ws.worktree, "rev-parse", "--abbrev-ref", "HEAD")).toBe("mesh/fix-login/1-sonnet");
    expect(checkoutState(repo)).toBe(before);
  });

  it("maps a cwd below the repository's top to the same subfolder of the worktree", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(join(repo, "docs"), temporaryFolder("mesh-wt-dir-"));
    expect(ws.cwd).toBe(join(ws.worktree, "docs"));
    expect(existsSync(join(ws.cwd, "guide.md"))).toBe(true);
    expect(ws.repo).toBe(realpathSync(repo));
  });

  it("starts from the given base_ref, and names a bad one in an error", async () => {
    const repo = userRepository();
    const first = git(repo, "rev-parse", "HEAD");
    writeFile(repo, "later.txt", "later\n");
    git(repo, "add", "later.txt");
    git(repo, "commit", "-qm", "later");
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"), { base: first.slice(0, 10) });
    expect(ws.base).toBe(first);
    expect(existsSync(join(ws.worktree, "later.txt"))).toBe(false);

    const bad = await prepareWorkspace({ taskId: "01T", attempt: 1, tier: "codex", cwd: repo, base: "no-such-branch" }, { worktreesDir: temporaryFolder("mesh-wt-dir-") });
    expect(bad).toEqual({ ok: false, error: expect.stringContaining("no-such-branch") });
  });

  it("runs in place with one line of reason outside git, or when isolation none is asked", async () => {
    const plain = temporaryFolder("mesh-wt-plain-");
    const worktreesDir = temporaryFolder("mesh-wt-dir-");
    const outside = await prepareWorkspace({ taskId: "01T", attempt: 1, tier: "codex", cwd: plain }, { worktreesDir });
    expect(outside).toEqual({ ok: true, value: { isolation: "none", cwd: plain, reason: expect.stringContaining("is not inside a git repository") } });
    if (outside.ok && outside.value.isolation === "none") expect(outside.value.reason).not.toContain("\n");

    const repo = userRepository();
    const asked = await prepareWorkspace({ taskId: "01T", attempt: 1, tier: "codex", cwd: repo, isolation: "none" }, { worktreesDir });
    expect(asked).toEqual({ ok: true, value: { isolation: "none", cwd: repo, reason: expect.stringContaining("isolation \"none\"") } });
  });

  it("refuses a cwd that does not exist, and a worktrees folder inside the repository", async () => {
    const missing = await prepareWorkspace({ taskId: "01T", attempt: 1, tier: "codex", cwd: join(temporaryFolder("mesh-wt-gone-"), "nope") }, { worktreesDir: temporaryFolder("mesh-wt-dir-") });
    expect(missing).toEqual({ ok: false, error: expect.stringContaining("does not exist") });

    const repo = userRepository();
    const inside = await prepareWorkspace({ taskId: "01T", attempt: 1, tier: "codex", cwd: repo }, { worktreesDir: join(realpathSync(repo), ".mesh-worktrees") });
    expect(inside).toEqual({ ok: false, error: expect.stringContaining("inside the repository") });
  });

  it("records no target branch for a detached HEAD", async () => {
    const repo = userRepository();
    git(repo, "checkout", "-q", "--detach");
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    expect(ws.targetBranch).toBeUndefined();
  });

  it("starts the same attempt afresh when an earlier run of it left its worktree and branch (agent restarted)", async () => {
    const repo = userRepository();
    const worktreesDir = temporaryFolder("mesh-wt-dir-");
    const stale = await worktreeFor(repo, worktreesDir);
    writeFile(stale.worktree, "half-done.txt", "from the run that died\n");
    git(stale.worktree, "add", ".");
    git(stale.worktree, "commit", "-qm", "half done");
    const again = await worktreeFor(repo, worktreesDir);
    expect(again.worktree).toBe(stale.worktree);
    expect(existsSync(join(again.worktree, "half-done.txt"))).toBe(false);
    expect(git(repo, "rev-parse", again.branch)).toBe(again.base);
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)).toHaveLength(2);
  });

  it("gives a task that reuses an ended task's name branches of its own, and the earlier branch stays", async () => {
    const repo = userRepository();
    const worktreesDir = temporaryFolder("mesh-wt-dir-");
    const earlier = await worktreeFor(repo, worktreesDir, { taskId: "01JEARLIERTASK" });
    writeFile(earlier.worktree, "done.txt", "the earlier task's work\n");
    git(earlier.worktree, "add", ".");
    git(earlier.worktree, "commit", "-qm", "earlier");
    const earlierTip = git(repo, "rev-parse", earlier.branch);
    const later = await worktreeFor(repo, worktreesDir, { taskId: "01JLATERTASK7Q" });
    expect(later.branch).toBe("mesh/fix-login-ertask7q/1-sonnet");
    expect(git(repo, "rev-parse", earlier.branch)).toBe(earlierTip);
    // Restarted, the later task's attempt starts afresh on its own branch; the earlier one's is untouched.
    const restarted = await worktreeFor(repo, worktreesDir, { taskId: "01JLATERTASK7Q" });
    expect(restarted.branch).toBe(later.branch);
    expect(git(repo, "rev-parse", earlier.branch)).toBe(earlierTip);
  });

  it("fits task names, ids and tiers into valid branch names", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"), { taskName: "..odd name.lock", tier: "gemini pro/2", attempt: 3 });
    expect(ws.branch).toBe("mesh/odd-name-lock/3-gemini-pro-2");
    expect(git(repo, "check-ref-format", `refs/heads/${ws.branch}`)).toBe("");
  });
});
