import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { changedFiles, snapshotCheckout, snapshotWorkTree } from "../../agents/runtime/work-tree-changes.ts";
import { gitRepo } from "./git-repo.ts";

describe("changed files of a work tree", () => {
  it("reports what the run changed, not what was dirty before it", async () => {
    const dir = gitRepo();
    const before = await snapshotWorkTree(dir);
    writeFileSync(join(dir, "src/a.ts"), "changed\n");
    mkdirSync(join(dir, "src/new"));
    writeFileSync(join(dir, "src/new/b.ts"), "new\n");
    const after = await snapshotWorkTree(dir);
    expect(before && after && (await changedFiles(before, after, dir))).toEqual(["src/a.ts", "src/new/b.ts"]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("blames a dirty file the run changed again, or reverted, or deleted", async () => {
    const dir = gitRepo();
    const before = await snapshotWorkTree(dir);
    await new Promise((done) => setTimeout(done, 20));
    writeFileSync(join(dir, "notes.txt"), "changed again by the run, longer\n");
    rmSync(join(dir, "src/a.ts"));
    const after = await snapshotWorkTree(dir);
    expect(before && after && (await changedFiles(before, after, dir))).toEqual(["notes.txt", "src/a.ts"]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("sees changes the run committed, and names paths relative to a subdirectory cwd", async () => {
    const dir = gitRepo();
    const cwd = join(dir, "src");
    const before = await snapshotWorkTree(cwd);
    writeFileSync(join(dir, "src/a.ts"), "committed change\n");
    writeFileSync(join(dir, "top.txt"), "outside cwd\n");
    execFileSync(
      "git",
      ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "by the run", "src/a.ts"],
      { cwd: dir },
    );
    const after = await snapshotWorkTree(cwd);
    expect(before && after && (await changedFiles(before, after, cwd))).toEqual(["../top.txt", "a.ts"]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("says nothing for a directory outside any work tree", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mesh-no-git-"));
    expect(await snapshotWorkTree(dir)).toBeUndefined();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads a whole checkout in one git status: HEAD, dirty, renamed, untracked and spaced paths, and what changed since", async () => {
    const dir = gitRepo();
    const git = (...args: string[]): void =>
      void execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
        cwd: dir,
        stdio: "ignore",
      });
    git("mv", "src/a.ts", "src/renamed a.ts");
    writeFileSync(join(dir, "untracked file.txt"), "new\n");
    const before = await snapshotCheckout(dir);
    expect(before?.head).toMatch(/^[0-9a-f]{40}$/);
    expect([...(before?.dirty.keys() ?? [])].sort()).toEqual([
      "notes.txt",
      "src/a.ts",
      "src/renamed a.ts",
      "untracked file.txt",
    ]);
    await new Promise((done) => setTimeout(done, 20));
    writeFileSync(join(dir, "notes.txt"), "dirty, and changed again during the run\n");
    writeFileSync(join(dir, "stray.txt"), "stray\n");
    const after = await snapshotCheckout(dir);
    expect(before && after && (await changedFiles(before, after, dir))).toEqual(["notes.txt", "stray.txt"]);
    git("add", "-A");
    git("commit", "-qm", "by someone");
    const committed = await snapshotCheckout(dir);
    expect(after && committed && (await changedFiles(after, committed, dir))).toEqual([
      "notes.txt",
      "src/a.ts",
      "src/renamed a.ts",
      "stray.txt",
      "untracked file.txt",
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});
