// applyBranch on real repositories (issue 12, point 7): fast-forward, merge commit, already applied;
// refusals (dirty, conflict, wrong branch) that leave the checkout exactly as it was.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyBranch, finishWorkspace, type WorktreeWorkspace } from "../../../agents/runtime/worktree/index.ts";
import { checkoutState, git, removeTemporaryFolders, temporaryFolder, userRepository, worktreeFor, writeFile } from "./temp-repository.ts";

afterEach(removeTemporaryFolders);

/** A finished attempt that wrote `files` into its worktree. */
async function attemptThatWrote(repo: string, files: Record<string, string>, attempt = 1): Promise<WorktreeWorkspace> {
  const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"), { attempt });
  for (const [path, content] of Object.entries(files)) writeFile(ws.worktree, path, content);
  const finished = await finishWorkspace(ws, { tier: "sonnet" });
  if (!finished.ok || finished.value.commit === undefined) throw new Error(`no commit: ${JSON.stringify(finished)}`);
  return ws;
}

function userCommits(repo: string, path: string, content: string): void {
  writeFile(repo, path, content);
  git(repo, "add", path);
  git(repo, "commit", "-qm", `user edits ${path}`);
}

describe("applyBranch", () => {
  it("fast-forwards the checkout's branch when it has not moved, and a second apply says it is already applied", async () => {
    const repo = userRepository();
    const ws = await attemptThatWrote(repo, { "src/app.ts": "export const app = 2;\n" });
    const applied = await applyBranch(ws);
    expect(applied).toEqual({ ok: true, value: { commit: git(repo, "rev-parse", ws.branch), fastForward: true, alreadyApplied: false } });
    expect(git(repo, "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", ws.branch));
    expect(readFileSync(join(repo, "src/app.ts"), "utf8")).toBe("export const app = 2;\n");
    expect(git(repo, "status", "--porcelain")).toBe("");

    const again = await applyBranch(ws);
    expect(again).toEqual({ ok: true, value: { commit: git(repo, "rev-parse", "HEAD"), fastForward: false, alreadyApplied: true } });
  });

  it("makes a merge commit by agent-mesh when the checkout's branch moved on without conflict", async () => {
    const repo = userRepository();
    const ws = await attemptThatWrote(repo, { "src/app.ts": "export const app = 2;\n" });
    userCommits(repo, "docs/guide.md", "# Guide, by the user\n");
    const userHead = git(repo, "rev-parse", "HEAD");
    const applied = await applyBranch(ws);
    if (!applied.ok) throw new Error(applied.error.message);
    expect(applied.value).toEqual({ commit: git(repo, "rev-parse", "HEAD"), fastForward: false, alreadyApplied: false });
    expect(git(repo, "rev-parse", "HEAD^1", "HEAD^2")).toBe(`${userHead}\n${git(repo, "rev-parse", ws.branch)}`);
    expect(git(repo, "log", "-1", "--format=%an <%ae>")).toBe("agent-mesh apply <agent-mesh@localhost>");
    expect(readFileSync(join(repo, "src/app.ts"), "utf8")).toBe("export const app = 2;\n");
    expect(readFileSync(join(repo, "docs/guide.md"), "utf8")).toBe("# Guide, by the user\n");
  });

  it("refuses a dirty checkout (an untracked file counts, an ignored one does not), naming the files and changing nothing", async () => {
    const repo = userRepository();
    const ws = await attemptThatWrote(repo, { "src/app.ts": "export const app = 2;\n" });
    writeFile(repo, "src/app.ts", "user's uncommitted edit\n");
    writeFile(repo, "notes.txt", "untracked\n");
    writeFile(repo, "build.log", "ignored\n");
    const before = checkoutState(repo);
    const refused = await applyBranch(ws);
    expect(refused).toEqual({ ok: false, error: { code: "checkout_dirty", message: expect.stringContaining("src/app.ts"), files: ["src/app.ts", "notes.txt"] } });
    expect(checkoutState(repo)).toBe(before);
  });

  it("refuses a conflicting merge naming the files, aborts it and leaves the checkout exactly as it was", async () => {
    const repo = userRepository();
    const ws = await attemptThatWrote(repo, { "src/app.ts": "export const app = 'attempt';\n" });
    userCommits(repo, "src/app.ts", "export const app = 'user';\n");
    const before = checkoutState(repo);
    const refused = await applyBranch(ws);
    expect(refused).toEqual({ ok: false, error: { code: "apply_conflict", message: expect.stringContaining("src/app.ts"), files: ["src/app.ts"] } });
    expect(checkoutState(repo)).toBe(before);
    expect(existsSync(join(repo, ".git", "MERGE_HEAD"))).toBe(false);
    expect(readFileSync(join(repo, "src/app.ts"), "utf8")).toBe("export const app = 'user';\n");
  });

  it("refuses when the checkout moved to another branch, saying which", async () => {
    const repo = userRepository();
    const ws = await attemptThatWrote(repo, { "src/app.ts": "export const app = 2;\n" });
    git(repo, "checkout", "-q", "-b", "elsewhere");
    const before = checkoutState(repo);
    const refused = await applyBranch(ws);
    expect(refused).toEqual({ ok: false, error: { code: "wrong_branch", message: expect.stringContaining("elsewhere"), files: [] } });
    expect(!refused.ok && refused.error.message).toContain("main");
    expect(checkoutState(repo)).toBe(before);
  });
});
