// Where an attempt's worktree and branch go (docs/work-isolation.md): names made safe for git refs and
// folders, one folder per repository (its name and a hash of its path), per task, per attempt.
import { createHash } from "node:crypto";
import { basename, join } from "node:path";

/** A branch path component from a task name or id (git's check-ref-format rules). */
export function refPart(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]/g, "-")
      .replace(/\.{2,}/g, ".")
      .replace(/^[.-]+|[.]+$/g, "")
      .replace(/\.lock$/i, "-lock") || "task"
  );
}

/** A repository's folder name under the worktrees directory: its name and a hash of its path. */
export function repoKey(repo: string): string {
  return `${refPart(basename(repo))}-${createHash("sha256").update(repo).digest("hex").slice(0, 8)}`;
}

/** Where an attempt's worktree goes: per repository, per task, per attempt. */
export function worktreePath(
  worktreesDir: string,
  repo: string,
  taskId: string,
  attempt: number,
  tier: string,
): string {
  return join(worktreesDir, repoKey(repo), refPart(taskId), `${attempt}-${refPart(tier)}`);
}
