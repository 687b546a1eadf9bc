import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs git in `cwd` as a test author (no global identity needed), returning its output trimmed. */
export const git = (cwd: string, ...args: string[]): string => execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd, encoding: "utf8" }).trim();

/** A git repo with two committed files and one pre-existing dirty file. */
export function gitRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-worktree-"));
  const git = (...args: string[]): void => void execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir, stdio: "ignore" });
  git("init", "-q");
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src/a.ts"), "a\n");
  writeFileSync(join(dir, "notes.txt"), "notes\n");
  git("add", ".");
  git("commit", "-qm", "initial");
  writeFileSync(join(dir, "notes.txt"), "dirty before the run\n");
  return dir;
}
