// An attempt's workspace (issue 12, point 1; INTERFACES.md "Work isolation and results"): a fresh
// git worktree on the attempt's own branch from the task's base commit, with the task's cwd mapped
// to the same subfolder; or, outside git (or when asked), the cwd itself, with the reason. The
// user's checkout is only read: no checkout, no index change, no stash.
import { rm, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { Isolation, Result } from "../../../protocol/index.ts";
import { attemptBranch, attemptWorktreeFolder } from "./branch-and-folder-names.ts";
import { GIT_NOT_STARTED, gitComplaint, runGit } from "./git-command.ts";

export type WorkspaceRequest = {
  taskId: string;
  /** The task's name, which names the branch when given (else the id). */
  taskName?: string;
  /** The attempt's number (1, 2, …). */
  attempt: number;
  tier: string;
  /** The task's cwd on this machine. */
  cwd: string;
  /** Default: a worktree when cwd is inside a git repository. */
  isolation?: Isolation;
  /** A commit-ish: the user's base_ref, or the sha the mesh recorded from the task's first attempt. Default HEAD. */
  base?: string;
};

export type WorktreeWorkspace = {
  isolation: "worktree";
  /** The top folder of the user's checkout that cwd is in. */
  repo: string;
  /** The attempt's worktree folder. */
  worktree: string;
  /** Where the attempt runs: the task's cwd mapped into the worktree. */
  cwd: string;
  branch: string;
  /** The base commit, a full sha. */
  base: string;
  /** The branch the user's checkout was on, which `applyBranch` merges into; absent for a detached HEAD. */
  targetBranch?: string;
};

export type InPlaceWorkspace = {
  isolation: "none";
  cwd: string;
  /** One line for the task's log saying why the attempt runs in place. */
  reason: string;
};

export type Workspace = WorktreeWorkspace | InPlaceWorkspace;

/** Prepares the attempt's workspace. An error only when the attempt cannot run at all (no such cwd, a bad base_ref, git failing). */
export async function prepareWorkspace(request: WorkspaceRequest, options: { worktreesDir: string }): Promise<Result<Workspace, string>> {
  const cwd = resolve(request.cwd);
  const cwdStat = await stat(cwd).catch(() => undefined);
  if (cwdStat === undefined) return { ok: false, error: `the task's cwd ${cwd} does not exist on this agent's machine` };
  if (!cwdStat.isDirectory()) return { ok: false, error: `the task's cwd ${cwd} is not a directory` };
  const inPlace = (reason: string): Result<Workspace, string> => ({ ok: true, value: { isolation: "none", cwd, reason } });
  if (request.isolation === "none") return inPlace(`isolation "none" was asked: the attempt runs in place in ${cwd}`);

  // One call answers three questions: the checkout's top folder, cwd's place in it, and the base's sha.
  // Not a repository: nothing printed. A bad base: the folders are printed, then it fails.
  const asked = request.base ?? "HEAD";
  const where = await runGit(cwd, ["rev-parse", "--show-toplevel", "--show-prefix", "--verify", "-q", `${asked}^{commit}`], { readOnly: true });
  if (where.code === GIT_NOT_STARTED) return inPlace(`git could not be run on this agent (${gitComplaint(where)}): the attempt runs in place in ${cwd}`);
  const [repo = "", prefixLine = "", sha = ""] = where.stdout.split("\n");
  if (repo === "") return inPlace(`${cwd} is not inside a git repository: the attempt runs in place`);
  if (where.code !== 0 || sha === "") {
    if (request.base !== undefined) return { ok: false, error: `base_ref '${request.base}' is not a commit in ${repo}; give a branch, tag or commit sha of that repository` };
    return inPlace(`${repo} has no commit yet: the attempt runs in place`);
  }
  const prefix = prefixLine.replace(/\/$/, "");

  const worktree = attemptWorktreeFolder(resolve(options.worktreesDir), repo, request.taskId, request.attempt, request.tier);
  if (isInside(worktree, repo)) return { ok: false, error: `the worktrees folder ${options.worktreesDir} is inside the repository ${repo}; give the agent a --worktrees folder outside it` };

  const [target, added] = await Promise.all([
    runGit(repo, ["symbolic-ref", "--short", "-q", "HEAD"], { readOnly: true }),
    addWorktree(repo, worktree, request, sha),
  ]);
  if (!added.ok) return added;
  const branch = added.value;
  const targetBranch = target.code === 0 ? target.stdout.trim() : "";
  return {
    ok: true,
    value: { isolation: "worktree", repo, worktree, cwd: prefix === "" ? worktree : join(worktree, prefix), branch, base: sha, ...(targetBranch === "" ? {} : { targetBranch }) },
  };
}

/**
 * Adds the attempt's worktree on its branch at base; the branch's name, or why not. The worktree
 * folder is keyed by task id and attempt, so finding it means an earlier run of this same attempt
 * (the agent restarted): it is removed, and so is the branch it was on, so the attempt starts again
 * at base. Should the branch exist anyway, an earlier task had the same name, and its branch stays:
 * this one takes the task id's tail. Never --force, so a branch the user has checked out is refused,
 * not moved.
 */
async function addWorktree(repo: string, worktree: string, request: WorkspaceRequest, base: string): Promise<Result<string, string>> {
  // Writing the files is most of an attempt's overhead in a large repository; checkout.workers=0
  // spreads it over the cores (git 2.32+; older gits ignore the setting).
  const add = (branch: string): ReturnType<typeof runGit> => runGit(repo, ["-c", "checkout.workers=0", "worktree", "add", "-q", "-b", branch, worktree, base]);
  const branch = attemptBranch(request, request.attempt, request.tier);
  const ownBranch = attemptBranch(request, request.attempt, request.tier, true);
  const failed = (outcome: Awaited<ReturnType<typeof runGit>>, tried: string): Result<string, string> => ({
    ok: false,
    error: `git could not make the attempt's worktree ${worktree} on ${tried}: ${gitComplaint(outcome)}`,
  });
  if ((await stat(worktree).catch(() => undefined)) !== undefined) {
    const stale = await runGit(worktree, ["symbolic-ref", "--short", "-q", "HEAD"], { readOnly: true });
    await removeStaleWorktree(repo, worktree);
    const staleBranch = stale.stdout.trim();
    if (staleBranch === branch || staleBranch === ownBranch) await runGit(repo, ["branch", "-q", "-D", staleBranch]);
  }
  let added = await add(branch);
  if (added.code === 0) return { ok: true, value: branch };
  // A record of this folder whose files were deleted blocks it: prune the record and try once more.
  await runGit(repo, ["worktree", "prune"]);
  added = await add(branch);
  if (added.code === 0) return { ok: true, value: branch };
  if ((await runGit(repo, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`], { readOnly: true })).code !== 0) return failed(added, branch);
  const own = await add(ownBranch);
  return own.code === 0 ? { ok: true, value: ownBranch } : failed(own, ownBranch);
}

async function removeStaleWorktree(repo: string, worktree: string): Promise<void> {
  await runGit(repo, ["worktree", "remove", "--force", "--force", worktree]);
  await rm(worktree, { recursive: true, force: true });
  await runGit(repo, ["worktree", "prune"]);
}

function isInside(path: string, folder: string): boolean {
  const fromFolder = relative(folder, path);
  return fromFolder === "" || (!fromFolder.startsWith(`..${sep}`) && fromFolder !== ".." && !fromFolder.startsWith(sep));
}
