// Removing the agent's worktrees (issue 12, point 9; INTERFACES.md "Work isolation and results"):
// one attempt's when it can no longer win, every ended task's after an agent restart, and how much
// disk they take. Branches always stay, so nothing an attempt made is lost.
import { execFile } from "node:child_process";
import { readdir, readFile, rm, rmdir } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Result } from "../../../protocol/index.ts";
import { gitComplaint, runGit } from "./git-command.ts";
import type { WorktreeWorkspace } from "./prepare-workspace.ts";

/**
 * Removes the attempt's worktree (`git worktree remove --force`: the worktree is the mesh's own, its
 * leftovers are already committed). Should git fail (the repository was moved or deleted), the folder
 * is deleted and `git worktree prune` clears the repository's record of it. The branch stays.
 */
export async function removeWorkspace(workspace: Pick<WorktreeWorkspace, "repo" | "worktree">): Promise<Result<null, string>> {
  const removed = await runGit(workspace.repo, ["worktree", "remove", "--force", "--force", workspace.worktree]);
  if (removed.code === 0) return { ok: true, value: null };
  await rm(workspace.worktree, { recursive: true, force: true });
  const pruned = await runGit(workspace.repo, ["worktree", "prune"]);
  // The folder is gone either way; a repository that is gone too has no record left to prune.
  if (pruned.code !== 0) return { ok: false, error: `removed the folder ${workspace.worktree}, but git could not prune ${workspace.repo}'s record of it: ${gitComplaint(pruned)}` };
  return { ok: true, value: null };
}

export type CleanupReport = {
  /** Worktree folders removed (their tasks ended). */
  removed: string[];
  /** Worktree folders kept (their tasks still run, or may still be applied). */
  kept: string[];
};

/**
 * After an agent restart: removes the worktrees under `worktreesDir` whose task ended, then prunes each
 * of their repositories once. `isEnded` is asked with the task-id folder name (a ULID, as the task
 * id). Layout: `<worktreesDir>/<repo key>/<task id>/<n>-<tier>` (branch-and-folder-names.ts).
 */
export async function cleanupWorktrees(worktreesDir: string, isEnded: (taskId: string) => boolean | Promise<boolean>): Promise<CleanupReport> {
  const report: CleanupReport = { removed: [], kept: [] };
  /** Git directories (the user's `.git`) whose worktree records need a prune. */
  const toPrune = new Set<string>();
  for (const repoKey of await folders(worktreesDir)) {
    const repoFolder = join(worktreesDir, repoKey);
    for (const taskId of await folders(repoFolder)) {
      const taskFolder = join(repoFolder, taskId);
      const attempts = (await folders(taskFolder)).map((name) => join(taskFolder, name));
      if (!(await isEnded(taskId))) {
        report.kept.push(...attempts);
        continue;
      }
      for (const worktree of attempts) {
        const gitDir = await commonGitDirOf(worktree);
        if (gitDir !== undefined) toPrune.add(gitDir);
        // Deleting the folder and pruning is what `worktree remove` does, with one git call per repository instead of one per worktree.
        await rm(worktree, { recursive: true, force: true });
        report.removed.push(worktree);
      }
      await rmdir(taskFolder).catch(() => undefined);
    }
    await rmdir(repoFolder).catch(() => undefined);
  }
  for (const gitDir of toPrune) await runGit(dirname(gitDir), ["--git-dir", gitDir, "worktree", "prune"]);
  return report;
}

/** The repository's git directory a worktree belongs to: its `.git` file names `<git dir>/worktrees/<name>`, whose `commondir` leads back. */
async function commonGitDirOf(worktree: string): Promise<string | undefined> {
  const pointer = await readFile(join(worktree, ".git"), "utf8").catch(() => undefined);
  const ownGitDir = pointer?.match(/^gitdir: (.*)$/m)?.[1]?.trim();
  if (ownGitDir === undefined) return undefined;
  const absolute = isAbsolute(ownGitDir) ? ownGitDir : resolve(worktree, ownGitDir);
  const common = (await readFile(join(absolute, "commondir"), "utf8").catch(() => undefined))?.trim();
  return common === undefined || common === "" ? undefined : resolve(absolute, common);
}

async function folders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}

/** Disk the worktrees use, in bytes; 0 when the folder is missing. `du -sk` exists on Linux and macOS. */
export function worktreesDiskBytes(worktreesDir: string): Promise<number> {
  return new Promise((settle) => {
    execFile("du", ["-sk", worktreesDir], { timeout: 60_000 }, (error, stdout) => {
      const kib = Number.parseInt(stdout.split("\t")[0] ?? "", 10);
      settle(error === null && Number.isFinite(kib) ? kib * 1024 : 0);
    });
  });
}
