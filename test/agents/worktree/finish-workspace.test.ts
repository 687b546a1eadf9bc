// finishWorkspace and diffOf on real repositories (issue 12, point 2): one commit per attempt, its
// stat, its diff (applicable at base, binary files included, capped at a file boundary).
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cutAtFileBoundary, diffOf, finishWorkspace } from "../../../agents/runtime/worktree/index.ts";
import { checkoutState, git, removeTemporaryFolders, temporaryFolder, userRepository, worktreeFor, writeFile } from "./temp-repository.ts";

afterEach(removeTemporaryFolders);

/** Checks (and applies) a patch at base in a fresh clone of the repository: the clone's path. */
function applyInFreshClone(repo: string, base: string, diff: string): string {
  const clone = join(temporaryFolder("mesh-wt-clone-"), "clone");
  git(repo, "clone", "-q", repo, clone);
  git(clone, "checkout", "-q", "--detach", base);
  const patch = join(clone, "..", "attempt.patch");
  writeFileSync(patch, diff);
  git(clone, "apply", "--check", patch);
  git(clone, "apply", patch);
  return clone;
}

describe("finishWorkspace", () => {
  it("commits new, changed and deleted files (binary too) as one commit whose diff applies at base in a fresh clone", async () => {
    const repo = userRepository();
    // The user's own diff settings must not leak into the patch.
    git(repo, "config", "diff.noprefix", "true");
    git(repo, "config", "diff.mnemonicPrefix", "true");
    git(repo, "config", "color.ui", "always");
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    const binary = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 13, 0, 128]);
    writeFile(ws.worktree, "src/app.ts", "export const app = 2;\nexport const more = true;\n");
    writeFile(ws.worktree, "src/new.ts", "export const fresh = 1;\n");
    writeFile(ws.worktree, "assets/logo.bin", binary);
    writeFile(ws.worktree, "debug.log", "ignored by .gitignore\n");
    unlinkSync(join(ws.worktree, "old.txt"));

    const finished = await finishWorkspace(ws, { tier: "sonnet" });
    expect(finished.ok).toBe(true);
    if (!finished.ok) return;
    const work = finished.value;
    expect(work.commit).toBe(git(ws.worktree, "rev-parse", "HEAD"));
    expect(git(repo, "rev-parse", ws.branch)).toBe(work.commit);
    expect(git(repo, "rev-list", "--count", `${ws.base}..${ws.branch}`)).toBe("1");
    expect(git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", ws.branch)).toBe("agent-mesh sonnet <agent-mesh@localhost>|agent-mesh sonnet <agent-mesh@localhost>");
    expect(work.diffStat).toEqual({ files: 4, insertions: 3, deletions: 2 });
    expect(work.changedFiles).toEqual(["assets/logo.bin", "old.txt", "src/app.ts", "src/new.ts"]);
    expect(work.diffTruncated).toBe(false);
    expect(work.diff).toContain("diff --git a/src/app.ts b/src/app.ts");
    expect(work.diff).toContain("GIT binary patch");
    expect(work.diff).not.toContain("debug.log");

    const clone = applyInFreshClone(repo, ws.base, work.diff);
    expect(readFileSync(join(clone, "assets/logo.bin")).equals(binary)).toBe(true);
    expect(existsSync(join(clone, "old.txt"))).toBe(false);
    expect(readFileSync(join(clone, "src/new.ts"), "utf8")).toBe("export const fresh = 1;\n");
  });

  it("gives two attempts writing the same file differently their own worktrees, commits and intact diffs; a stray file of the first never reaches the second; the checkout stays as it was", async () => {
    const repo = userRepository();
    const before = checkoutState(repo);
    const worktreesDir = temporaryFolder("mesh-wt-dir-");
    const first = await worktreeFor(repo, worktreesDir, { attempt: 1, tier: "deepseek" });
    writeFile(first.worktree, "fixed.txt", "the first fix\n");
    writeFile(first.worktree, "stray.tmp", "left behind\n");
    const second = await worktreeFor(repo, worktreesDir, { attempt: 2, tier: "codex", base: first.base });
    expect(second.worktree).not.toBe(first.worktree);
    expect(existsSync(join(second.worktree, "stray.tmp"))).toBe(false);
    expect(existsSync(join(second.worktree, "fixed.txt"))).toBe(false);
    writeFile(second.worktree, "fixed.txt", "the second fix\n");

    const [one, two] = await Promise.all([finishWorkspace(first, { tier: "deepseek" }), finishWorkspace(second, { tier: "codex" })]);
    if (!one.ok || !two.ok) throw new Error(`finish failed: ${JSON.stringify([one, two])}`);
    expect(one.value.commit).not.toBe(two.value.commit);
    expect(one.value.diff).toContain("+the first fix");
    expect(one.value.diff).not.toContain("the second fix");
    expect(two.value.diff).toContain("+the second fix");
    expect(two.value.diff).not.toContain("stray.tmp");
    expect(two.value.changedFiles).toEqual(["fixed.txt"]);
    expect(git(repo, "show", `${first.branch}:fixed.txt`)).toBe("the first fix");
    expect(git(repo, "show", `${second.branch}:fixed.txt`)).toBe("the second fix");
    expect(checkoutState(repo)).toBe(before);
    expect(readFileSync(join(repo, "src/app.ts"), "utf8")).toBe("export const app = 1;\n");
  });

  it("makes no commit when nothing changed, and reports files 0", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    writeFile(ws.worktree, "only.log", "ignored\n");
    const finished = await finishWorkspace(ws, { tier: "sonnet" });
    expect(finished).toEqual({ ok: true, value: { diffStat: { files: 0, insertions: 0, deletions: 0 }, diff: "", diffTruncated: false, changedFiles: [] } });
    expect(git(repo, "rev-parse", ws.branch)).toBe(ws.base);
  });

  it("takes the CLI's own commits plus its leftovers: the result is the branch's HEAD and the diff runs from base", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    writeFile(ws.worktree, "committed.txt", "the CLI committed this\n");
    git(ws.worktree, "add", "committed.txt");
    git(ws.worktree, "commit", "-qm", "by the CLI");
    writeFile(ws.worktree, "leftover.txt", "not committed by the CLI\n");
    const finished = await finishWorkspace(ws, { tier: "codex" });
    if (!finished.ok) throw new Error(finished.error);
    expect(finished.value.commit).toBe(git(repo, "rev-parse", ws.branch));
    expect(git(repo, "rev-list", "--count", `${ws.base}..${ws.branch}`)).toBe("2");
    expect(finished.value.changedFiles).toEqual(["committed.txt", "leftover.txt"]);
    expect(finished.value.diffStat.files).toBe(2);
  });

  it("points the attempt's branch at the result when the CLI moved HEAD to a branch of its own", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    git(ws.worktree, "checkout", "-q", "-b", "cli-own-branch");
    writeFile(ws.worktree, "src/app.ts", "changed on the CLI's branch\n");
    const finished = await finishWorkspace(ws, { tier: "codex" });
    if (!finished.ok) throw new Error(finished.error);
    expect(git(repo, "rev-parse", ws.branch)).toBe(finished.value.commit);
    expect(finished.value.changedFiles).toEqual(["src/app.ts"]);
  });

  it("reports changed files relative to a subfolder cwd", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(join(repo, "docs"), temporaryFolder("mesh-wt-dir-"));
    writeFile(ws.cwd, "guide.md", "# Guide, edited\n");
    writeFile(ws.worktree, "src/app.ts", "changed from docs/\n");
    const finished = await finishWorkspace(ws, { tier: "sonnet" });
    if (!finished.ok) throw new Error(finished.error);
    expect(finished.value.changedFiles).toEqual(["../src/app.ts", "guide.md"]);
  });

  it("cuts a diff past the cap at a file boundary and flags it; the branch keeps everything, and the cut diff still applies", async () => {
    const repo = userRepository();
    const ws = await worktreeFor(repo, temporaryFolder("mesh-wt-dir-"));
    for (const name of ["a", "b", "c", "d"]) writeFile(ws.worktree, `big/${name}.txt`, `${name}\n`.repeat(2000));
    const whole = await finishWorkspace(ws, { tier: "sonnet" });
    if (!whole.ok || whole.value.commit === undefined) throw new Error("no commit");
    const cap = Math.floor(whole.value.diff.length * 0.6);
    const cut = await diffOf(ws.repo, ws.base, whole.value.commit, cap);
    if (!cut.ok) throw new Error(cut.error);
    expect(cut.value.diffTruncated).toBe(true);
    expect(Buffer.byteLength(cut.value.diff)).toBeLessThanOrEqual(cap);
    expect(cut.value.diff.length).toBeGreaterThan(0);
    expect(whole.value.diff.startsWith(cut.value.diff)).toBe(true);
    expect(whole.value.diff.slice(cut.value.diff.length).startsWith("diff --git ")).toBe(true);
    expect(git(repo, "show", `${ws.branch}:big/d.txt`).split("\n")).toHaveLength(2000);
    applyInFreshClone(repo, ws.base, cut.value.diff);

    const capped = await finishWorkspace(ws, { tier: "sonnet", maxDiffBytes: cap });
    expect(capped.ok && capped.value.diffTruncated).toBe(true);
    expect(capped.ok && capped.value.diffStat.files).toBe(4);
  });
});

describe("cutAtFileBoundary", () => {
  const diff = Buffer.from("diff --git a/x b/x\n+1\ndiff --git a/y b/y\n+2\n");

  it("keeps a diff within the cap whole", () => {
    expect(cutAtFileBoundary(diff, diff.length).equals(diff)).toBe(true);
  });

  it("keeps whole file sections only, up to a header that starts exactly at the cap", () => {
    const firstSection = "diff --git a/x b/x\n+1\n";
    expect(cutAtFileBoundary(diff, firstSection.length).toString()).toBe(firstSection);
    expect(cutAtFileBoundary(diff, diff.length - 1).toString()).toBe(firstSection);
    expect(cutAtFileBoundary(diff, firstSection.length - 1).toString()).toBe("");
  });
});
