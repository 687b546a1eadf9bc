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
  const branch = attemptBranch(request, request.attempt, request.tier);

  const [target, added] = await Promise.all([
    runGit(repo, ["symbolic-ref", "--short", "-q", "HEAD"], { readOnly: true }),
    addWorktree(repo, worktree, branch, sha),
  ]);
  if (!added.ok) return added;
  const targetBranch = target.code === 0 ? target.stdout.trim() : "";
  return {
    ok: true,
    value: { isolation: "worktree", repo, worktree, cwd: prefix === "" ? worktree : join(worktree, prefix), branch, base: sha, ...(targetBranch === "" ? {} : { targetBranch }) },
  };
}

/**
 * `git worktree add -B`: the branch is made at base, or reset to it when an earlier run of the same
 * attempt left it (the agent restarted). A stale worktree of that run is removed first. Without
 * --force, so a branch someone checked out elsewhere (the user inspecting it) is refused, not moved.
 */
async function addWorktree(repo: string, worktree: string, branch: string, base: string): Promise<Result<null, string>> {
  const add = (): ReturnType<typeof runGit> => runGit(repo, ["worktree", "add", "-q", "-B", branch, worktree, base]);
  if ((await stat(worktree).catch(() => undefined)) !== undefined) await removeStaleWorktree(repo, worktree);
  let added = await add();
  if (added.code !== 0) {
    // A worktree of an earlier run that is registered but gone from disk, or half made: clear and retry once.
    await removeStaleWorktree(repo, worktree);
    added = await add();
  }
  if (added.code !== 0) return { ok: false, error: `git could not make the attempt's worktree ${worktree} on ${branch}: ${gitComplaint(added)}` };
  return { ok: true, value: null };
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
