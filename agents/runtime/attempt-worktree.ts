// One attempt's worktree (docs/work-isolation.md): a worktree of its own on a branch of its own, from
// the task's base commit (or an earlier attempt's folder it resumes), and its removal. Its result as
// one commit and a diff is attempt-commit.ts's; merging that branch into the user's checkout is
// local-apply.ts's. The user's checkout is only ever read, until `apply`.
import { execFile } from "node:child_process";
import { mkdir, realpath, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Isolation, Result, TaskAssign } from "../../protocol/index.ts";
import { git, MANY_FILES_SETTINGS } from "./local-git.ts";
import { dirFaultOf, diskFaultInGitOutput, probeWorktreesDir } from "./worktree-dir-health.ts";
import { refPart, worktreePath } from "./worktree-paths.ts";

export type WorktreeWorkspace = {
  isolation: "worktree";
  /** The user's repository (its top folder). */
  repo: string;
  /** The attempt's worktree folder, and its cwd inside it (the task's cwd, mapped). */
  worktree: string;
  cwd: string;
  branch: string;
  /** The base commit (full sha). */
  base: string;
  /** The branch the checkout was on, which `apply` merges into (absent for a detached HEAD). */
  targetBranch?: string;
};
export type Workspace = WorktreeWorkspace | { isolation: "none"; cwd: string; reason: string };

/**
 * Why an attempt got no workspace: the task's setup (a bad base_ref, a missing cwd: `syntax_error`),
 * or the machine (a full or read-only disk: `disk_full`, docs/faults.md). `worktreesDir` marks a
 * fault of the agent's worktrees directory itself, which fails every worktree task until it is fixed.
 */
export type WorkspaceFault = {
  /** `repo_unavailable` and `setup_failed` come with repositories by URL and their setup (docs/repositories.md). */
  failure_class: "syntax_error" | "disk_full" | "repo_unavailable" | "setup_failed";
  /** The attempt's error: what happened, where, and what to do. */
  message: string;
  /** Set when the worktrees directory itself is at fault: why, as the agent's `degraded` reason says it. */
  worktreesDir?: string;
};

/**
 * What an attempt's workspace is made from: the task's cwd (its repository found from there), or for
 * a task naming a repository by URL, the agent's mirror of it and the resolved base commit.
 */
export type WorkspaceRequest = {
  taskId: string;
  taskName?: string;
  attempt: number;
  tier: string;
  cwd: string;
  isolation?: Isolation;
  base?: string;
  mirror?: { gitDir: string; base: string; branch?: string };
};

/** The request for an assigned attempt whose workspace is made from `cwd` (the task's, or a mirror's). */
export function workspaceRequestOf(assign: TaskAssign, cwd: string): WorkspaceRequest {
  return {
    taskId: assign.task_id,
    ...(assign.task_name === undefined ? {} : { taskName: assign.task_name }),
    attempt: assign.attempt,
    tier: assign.tier,
    cwd,
    ...(assign.isolation === undefined ? {} : { isolation: assign.isolation }),
    ...(assign.base === undefined ? {} : { base: assign.base }),
  };
}

/**
 * Spare worktrees of a repository, kept warm for the next attempt (docs/repositories.md "Warm
 * worktrees"): `take` puts one at `worktree` on `branch` at `base` and says whether it could.
 */
export type SpareWorktrees = { take(repo: string, worktree: string, branch: string, base: string): Promise<boolean> };

/** Where a request's worktree comes from: its repository, the cwd's place in it, the base; or in place, or refused. */
type Located =
  | { kind: "worktree"; repo: string; prefix: string; base: string; branch: string; targetBranch?: string }
  | { kind: "in-place"; workspace: Workspace }
  | { kind: "refused"; error: string };

async function locate(request: WorkspaceRequest): Promise<Located> {
  const branch = `mesh/${refPart(request.taskName ?? request.taskId)}/${request.attempt}-${refPart(request.tier)}`;
  // A mirror's worktree: the whole repository, at the base the mirror resolved (docs/repositories.md).
  if (request.mirror !== undefined)
    return {
      kind: "worktree",
      repo: request.mirror.gitDir,
      prefix: "",
      base: request.mirror.base,
      branch,
      ...(request.mirror.branch === undefined ? {} : { targetBranch: request.mirror.branch }),
    };
  const isDir = (await stat(request.cwd).catch(() => undefined))?.isDirectory() === true;
  if (!isDir)
    return {
      kind: "refused",
      error: `the task's cwd '${request.cwd}' is not a directory on this agent; give a directory that exists on the agent's machine`,
    };
  const inPlace = (reason: string): Located => ({
    kind: "in-place",
    workspace: { isolation: "none", cwd: request.cwd, reason },
  });
  if (request.isolation === "none")
    return inPlace(`isolation "none" was asked: the attempt runs in place in ${request.cwd}`);
  const where = await git(request.cwd, ["rev-parse", "--show-toplevel", "--show-prefix"]);
  if (where.code !== 0)
    return inPlace(
      `${request.cwd} is not inside a git repository: the attempt runs in place, without a worktree or a diff`,
    );
  const [repo = "", prefix = ""] = where.stdout.split("\n");
  const asked = request.base ?? "HEAD";
  const resolved = await git(repo, ["rev-parse", "--verify", "-q", `${asked}^{commit}`]);
  if (resolved.code !== 0) {
    if (request.base !== undefined)
      return {
        kind: "refused",
        error: `base_ref '${request.base}' is not a commit in ${repo}; give a branch, tag or commit sha of that repository`,
      };
    return inPlace(`${repo} has no commit yet: the attempt runs in place, without a worktree or a diff`);
  }
  const target = (await git(repo, ["symbolic-ref", "--short", "-q", "HEAD"])).stdout.trim();
  return {
    kind: "worktree",
    repo,
    prefix,
    base: resolved.stdout.trim(),
    branch,
    ...(target === "" ? {} : { targetBranch: target }),
  };
}

function workspaceAt(located: Extract<Located, { kind: "worktree" }>, worktree: string): WorktreeWorkspace {
  const { repo, prefix, base, branch, targetBranch } = located;
  return {
    isolation: "worktree",
    repo,
    worktree,
    cwd: join(worktree, prefix.replace(/\/$/, "")),
    branch,
    base,
    ...(targetBranch === undefined ? {} : { targetBranch }),
  };
}

/** The attempt's workspace: a fresh worktree at the task's base, or its cwd in place (and why). */
export async function prepareWorkspace(
  request: WorkspaceRequest,
  options: { worktreesDir: string; spares?: SpareWorktrees },
): Promise<Result<Workspace, WorkspaceFault>> {
  const located = await locate(request);
  if (located.kind === "refused")
    return { ok: false, error: { failure_class: "syntax_error", message: located.error } };
  if (located.kind === "in-place") return { ok: true, value: located.workspace };
  const { repo, base, branch } = located;
  const dir = options.worktreesDir;
  const worktree = worktreePath(dir, repo, request.taskId, request.attempt, request.tier);
  // The directory is tried first (a few syscalls): a read-only or full one ends the attempt before anything is spent.
  const unusable = await probeWorktreesDir(dir);
  if (unusable !== undefined)
    return {
      ok: false,
      error: { failure_class: "disk_full", message: unusable.message, worktreesDir: unusable.message },
    };
  try {
    // The same attempt again (the agent restarted): its old worktree goes first.
    if ((await stat(worktree).catch(() => undefined)) !== undefined) await removeWorktree(repo, worktree);
    await mkdir(join(worktree, ".."), { recursive: true });
  } catch (error) {
    // A read-only or full directory (docs/faults.md): the attempt ends with the cause, never as a lost agent.
    const fault = dirFaultOf(dir, error);
    return {
      ok: false,
      error: {
        failure_class: fault === undefined ? "syntax_error" : "disk_full",
        message: fault?.message ?? `the attempt's worktree ${worktree} could not be made: ${String(error)}`,
        ...(fault === undefined ? {} : { worktreesDir: fault.message }),
      },
    };
  }
  // A warm spare writes only the files that differ; a damaged one was dropped and the miss makes a new one.
  if (options.spares !== undefined && (await options.spares.take(repo, worktree, branch, base)))
    return { ok: true, value: workspaceAt(located, worktree) };
  const added = await git(repo, [...MANY_FILES_SETTINGS, "worktree", "add", "-q", "-f", "-B", branch, worktree, base]);
  if (added.code === 0) return { ok: true, value: workspaceAt(located, worktree) };
  const said = added.stderr.trim().slice(0, 500);
  // Full now (the checkout took the last of it)? The directory's own fault, which later tasks would meet too.
  const fault = await probeWorktreesDir(dir);
  if (fault !== undefined)
    return {
      ok: false,
      error: {
        failure_class: "disk_full",
        message: `${fault.message} (git: ${said.split("\n")[0] ?? ""})`,
        worktreesDir: fault.message,
      },
    };
  const disk = diskFaultInGitOutput(added.stderr);
  if (disk !== undefined)
    return {
      ok: false,
      error: {
        failure_class: "disk_full",
        message: `git could not make the attempt's worktree in ${worktree} (${disk.code}: ${disk.line}); free space or make room where git says, or give the agent --worktrees another directory`,
      },
    };
  return {
    ok: false,
    error: {
      failure_class: "syntax_error",
      message: `git could not make a worktree for the attempt in ${worktree}: ${said}`,
    },
  };
}

/**
 * The workspace of an attempt that continues attempt `from`'s CLI session (docs/resume.md): that attempt's
 * own worktree folder (claude keys its sessions by the cwd's path), put on the new attempt's branch
 * at its HEAD, so the earlier commit stays on its branch and the new result is measured from the
 * task's base like any other. In place when the task runs in place. `ok: false` says why not.
 */
export async function resumeWorkspace(
  request: WorkspaceRequest,
  from: { attempt: number; tier: string },
  /** `claim` takes the folder for this attempt, false when another attempt works in it now. */
  options: { worktreesDir: string; claim?: (worktree: string) => boolean },
): Promise<Result<Workspace, string>> {
  const located = await locate(request);
  if (located.kind === "refused") return { ok: false, error: located.error };
  if (located.kind === "in-place") return { ok: true, value: located.workspace };
  const worktree = worktreePath(options.worktreesDir, located.repo, request.taskId, from.attempt, from.tier);
  // The folder must still be a worktree of this repository, not a half-removed leftover.
  // (git prints the real path: a worktrees folder under a symlink, as macOS's /var is, must still match.)
  const [top, real] = await Promise.all([
    git(worktree, ["rev-parse", "--show-toplevel"]),
    realpath(worktree).catch(() => undefined),
  ]);
  if (top.code !== 0 || real === undefined || top.stdout.trim() !== real)
    return { ok: false, error: `attempt ${from.attempt}'s worktree is gone` };
  if (options.claim?.(worktree) === false)
    return { ok: false, error: `attempt ${from.attempt}'s worktree is in use by a running attempt` };
  // -B: the same attempt again (the agent restarted) finds its branch made already.
  const switched = await git(worktree, ["checkout", "-q", "-B", located.branch]);
  if (switched.code !== 0)
    return {
      ok: false,
      error: `git could not put attempt ${from.attempt}'s worktree on ${located.branch}: ${switched.stderr.trim().slice(0, 500)}`,
    };
  return { ok: true, value: workspaceAt(located, worktree) };
}

export async function removeWorktree(repo: string, worktree: string): Promise<void> {
  await git(repo, ["worktree", "remove", "--force", worktree]);
  await rm(worktree, { recursive: true, force: true });
  await git(repo, ["worktree", "prune"]);
}

/** Removes the attempt's worktree (its branch stays, so nothing is lost) and prunes git's bookkeeping. */
export function removeWorkspace(workspace: Pick<WorktreeWorkspace, "repo" | "worktree">): Promise<void> {
  return removeWorktree(workspace.repo, workspace.worktree);
}

/** Disk the worktrees folder uses, in bytes (`du -sk` exists on Linux and macOS). */
export async function worktreesDiskBytes(dir: string): Promise<number> {
  return new Promise((resolve) => {
    execFile("du", ["-sk", dir], { timeout: 30_000 }, (error, stdout) =>
      resolve(error === null ? Number(String(stdout).split("\t")[0] ?? 0) * 1024 : 0),
    );
  });
}
