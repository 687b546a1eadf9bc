import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Runs git in `cwd` as a test author (no global identity needed), returning its output trimmed. */
export const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

/**
 * Makes `dir` a repository whose one commit ("initial") holds `files` (path → text), on `branch` or
 * git's default one. Returns `dir`.
 */
export function committedRepo(dir: string, files: Record<string, string>, branch?: string): string {
  const quiet = (...args: string[]): void =>
    void execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
  quiet("init", "-q", ...(branch === undefined ? [] : ["-b", branch]));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  quiet("add", ".");
  quiet("commit", "-qm", "initial");
  return dir;
}

/** A git repo with two committed files and one pre-existing dirty file, in `dir` or a new temporary one. */
export function gitRepo(dir = mkdtempSync(join(tmpdir(), "mesh-worktree-"))): string {
  committedRepo(dir, { "src/a.ts": "a\n", "notes.txt": "notes\n" });
  writeFileSync(join(dir, "notes.txt"), "dirty before the run\n");
  return dir;
}
