// Where an attempt's work lives (issue 12; INTERFACES.md "Work isolation and results"): its branch
// `mesh/<task name or id>/<n>-<tier>` and its worktree folder
// `<worktrees dir>/<repo key>/<task id>/<n>-<tier>`, never inside the user's repository.
import { createHash } from "node:crypto";
import { basename, join } from "node:path";

/**
 * One path component of a branch name, by git's check-ref-format rules: no control characters,
 * spaces or `~^:?*[\`, no `..` or `@{`, no leading `.` or `-`, no trailing `.` or `.lock`. Task names
 * are `[A-Za-z0-9._-]` already; ids, tiers and other text are made to fit the same set.
 */
export function refComponent(text: string): string {
  const fitted = text
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[.-]+/, "")
    .replace(/\.+$/, "")
    .replace(/\.lock$/i, "-lock");
  return fitted === "" ? "x" : fitted.slice(0, 100);
}

/**
 * The attempt's branch: `mesh/<task name or id>/<n>-<tier>`. `withIdTail` is for a name an earlier
 * task used (its branches stay): `mesh/<name>-<end of the task id>/<n>-<tier>` keeps both.
 */
export function attemptBranch(task: { taskId: string; taskName?: string }, attempt: number, tier: string, withIdTail = false): string {
  const taskPart = task.taskName === undefined ? refComponent(task.taskId) : refComponent(task.taskName);
  const tail = withIdTail ? `-${refComponent(task.taskId).slice(-8).toLowerCase()}` : "";
  return `mesh/${taskPart}${tail}/${attempt}-${refComponent(tier)}`;
}

/**
 * A short stable folder name for a repository: its basename (readable) and a hash of its path
 * (two repositories with the same basename never share a folder).
 */
export function repoKey(repo: string): string {
  return `${refComponent(basename(repo))}-${createHash("sha256").update(repo).digest("hex").slice(0, 10)}`;
}

/** The task's folder of worktrees (one per attempt) for one repository. */
export function taskWorktreesFolder(worktreesDir: string, repo: string, taskId: string): string {
  return join(worktreesDir, repoKey(repo), refComponent(taskId));
}

/** The attempt's worktree folder: `<worktrees dir>/<repo key>/<task id>/<n>-<tier>`. */
export function attemptWorktreeFolder(worktreesDir: string, repo: string, taskId: string, attempt: number, tier: string): string {
  return join(taskWorktreesFolder(worktreesDir, repo, taskId), `${attempt}-${refComponent(tier)}`);
}
