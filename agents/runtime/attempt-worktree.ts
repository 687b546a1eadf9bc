// Git for one attempt (docs/work-isolation.md): a worktree of its own
// on a branch of its own, from the task's base commit; its result as one commit and a diff; merging
// that branch into the user's checkout. The user's checkout is only ever read, until `apply`.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, realpath, rm, stat } from "node:fs/promises";
import { basename, join, posix, relative } from "node:path";
import { type DiffStat, type Isolation, MAX_DIFF_BYTES, type Result } from "../../protocol/index.ts";
import { dirFaultOf, diskFaultInGitOutput, probeWorktreesDir } from "./worktree-dir-health.ts";

const GIT_TIMEOUT_MS = 120_000;
/** A diff is read whole up to this many bytes before it is cut to the stored cap. */
const MAX_GIT_OUTPUT = 256 * 1024 * 1024;
/** Who commits and merges for the mesh; the user's git config is neither needed nor changed. */
const meshIdentity = (tier: string): string[] => [
  "-c",
  `user.name=agent-mesh`,
  "-c",
  `user.email=${tier}@agent-mesh.local`,
  "-c",
  "commit.gpgsign=false",
];

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

export type GitRun = { code: number; stdout: string; stderr: string };

/**
 * Spare worktrees of a repository, kept warm for the next attempt (docs/repositories.md "Warm
 * worktrees"): `take` puts one at `worktree` on `branch` at `base` and says whether it could.
 */
export type SpareWorktrees = { take(repo: string, worktree: string, branch: string, base: string): Promise<boolean> };

/**
 * Settings of a first checkout: parallel checkout (writing the files is most of an attempt's
 * overhead on a large repository; git < 2.32 ignores it), index version 4 and the untracked cache.
 */
export const MANY_FILES_SETTINGS = ["-c", "checkout.workers=0", "-c", "feature.manyFiles=true"];

/**
 * Variables that would point git at another repository, index or object store than cwd's (set, say,
 * when the agent is started from a git hook); they are removed from every call's environment.
 */
const REPOSITORY_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
];
/**
 * Settings every call carries: the user's hooks never run on the mesh's own worktree, commit and
 * merge steps; the agent may run as another user than the repository's owner.
 */
const CALL_SETTINGS = ["-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*"];

function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", LC_ALL: "C" };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  return env;
}

/** One git call with the mesh's settings (`input` on its stdin); never throws (a failure is a non-zero code). */
export function git(cwd: string, args: readonly string[], input?: string): Promise<GitRun> {
  return new Promise((resolve) => {
    // A folder that is gone (a deleted repository) must fail like any git error, never throw.
    try {
      run(resolve);
    } catch (error) {
      resolve({ code: 1, stdout: "", stderr: error instanceof Error ? error.message : String(error) });
    }
  });
  function run(resolve: (result: GitRun) => void): void {
    const child = execFile(
      "git",
      [...CALL_SETTINGS, ...args],
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_GIT_OUTPUT, env: gitEnvironment() },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? "") });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  }
}

/** A branch path component from a task name or id (git's check-ref-format rules). */
function refPart(text: string): string {
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

export type WorkResult = {
  commit?: string;
  diffStat: DiffStat;
  diff: string;
  diffTruncated: boolean;
  changedFiles: string[];
};

/**
 * Commits everything the attempt changed (tracked, new and deleted files; ignored files stay out) as
 * one commit on its branch, and reads its diff from the base. Nothing changed: no commit.
 */
export async function finishWorkspace(
  workspace: WorktreeWorkspace,
  options: { tier: string; maxDiffBytes?: number },
): Promise<Result<WorkResult, string>> {
  const { worktree, base } = workspace;
  const added = await git(worktree, ["add", "-A"]);
  if (added.code !== 0)
    return { ok: false, error: `git add failed in ${worktree}: ${added.stderr.trim().slice(0, 500)}` };
  if ((await git(worktree, ["diff", "--cached", "--quiet"])).code !== 0) {
    // No auto maintenance after the attempt's commit (a process more per attempt): the mirror's fetch or the user's own
    // git runs it.
    const committed = await git(worktree, [
      ...meshIdentity(options.tier),
      "-c",
      "maintenance.auto=false",
      "commit",
      "-q",
      "--no-verify",
      "-m",
      `agent-mesh: ${workspace.branch}`,
    ]);
    if (committed.code !== 0)
      return { ok: false, error: `git commit failed in ${worktree}: ${committed.stderr.trim().slice(0, 500)}` };
  }
  const head = (await git(worktree, ["rev-parse", "HEAD"])).stdout.trim();
  if (head === base)
    return {
      ok: true,
      value: { diffStat: { files: 0, insertions: 0, deletions: 0 }, diff: "", diffTruncated: false, changedFiles: [] },
    };
  // Plumbing, not `git diff`: diff-tree ignores the user's diff settings (noprefix, external diff,
  // textconv, colour) that would make a patch `git apply` refuses.
  const tree = ["diff-tree", "-r", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames"];
  const [numstat, names, diff] = await Promise.all([
    git(worktree, [...tree, "--numstat", base, head]),
    git(worktree, [...tree, "--name-only", "-z", base, head]),
    git(worktree, [...tree, "-p", "--binary", base, head]),
  ]);
  const rows = numstat.stdout.split("\n").filter((row) => row.length > 0);
  const count = (field: string | undefined): number => (field === undefined || field === "-" ? 0 : Number(field) || 0);
  const diffStat = {
    files: rows.length,
    insertions: rows.reduce((sum, row) => sum + count(row.split("\t")[0]), 0),
    deletions: rows.reduce((sum, row) => sum + count(row.split("\t")[1]), 0),
  };
  const cut = cutAtFileBoundary(diff.stdout, options.maxDiffBytes ?? MAX_DIFF_BYTES);
  const fromCwd = relative(worktree, workspace.cwd).split("\\").join("/");
  const changedFiles = names.stdout
    .split("\0")
    .filter((name) => name.length > 0)
    .map((name) => posix.relative(fromCwd, name))
    .slice(0, 1000);
  return { ok: true, value: { commit: head, diffStat, diff: cut.text, diffTruncated: cut.truncated, changedFiles } };
}

/** A diff cut to `maxBytes` at the start of a file's section (`diff --git`), so what is kept still applies. */
export function cutAtFileBoundary(diff: string, maxBytes: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(diff) <= maxBytes) return { text: diff, truncated: false };
  const head = Buffer.from(diff).subarray(0, maxBytes).toString("utf8");
  const at = head.lastIndexOf("\ndiff --git ");
  return { text: at < 0 ? "" : head.slice(0, at + 1), truncated: true };
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

export type ApplyRefusal = {
  code: "checkout_dirty" | "apply_conflict" | "wrong_branch";
  message: string;
  files: string[];
};

/**
 * Merges an attempt's branch into the user's checkout, which must still be on the branch it had at
 * the base: a fast-forward when possible, else a merge commit. Refuses, changing nothing, when the
 * checkout has uncommitted changes or the merge conflicts (the merge is aborted).
 */
export async function applyBranch(request: {
  repo: string;
  branch: string;
  targetBranch?: string;
  base: string;
}): Promise<Result<{ commit: string; fastForward: boolean; alreadyApplied: boolean }, ApplyRefusal>> {
  const { repo, branch } = request;
  const current = (await git(repo, ["symbolic-ref", "--short", "-q", "HEAD"])).stdout.trim();
  if (request.targetBranch !== undefined && current !== request.targetBranch) {
    return {
      ok: false,
      error: {
        code: "wrong_branch",
        message: `the checkout in ${repo} is on ${current || "a detached HEAD"}, not on ${request.targetBranch} where the task started; check out ${request.targetBranch} and apply again`,
        files: [],
      },
    };
  }
  const status = await git(repo, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  const dirty = status.stdout
    .split("\0")
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
  if (dirty.length > 0) {
    return {
      ok: false,
      error: {
        code: "checkout_dirty",
        message: `the checkout in ${repo} has uncommitted changes (${dirty.slice(0, 20).join(", ")}${dirty.length > 20 ? ", …" : ""}); commit or stash them, then apply again`,
        files: dirty.slice(0, 20),
      },
    };
  }
  const tip = (await git(repo, ["rev-parse", "--verify", "-q", `${branch}^{commit}`])).stdout.trim();
  if (tip === "")
    return {
      ok: false,
      error: {
        code: "apply_conflict",
        message: `the branch ${branch} is gone from ${repo}; nothing to apply`,
        files: [],
      },
    };
  const head = async (): Promise<string> => (await git(repo, ["rev-parse", "HEAD"])).stdout.trim();
  if ((await git(repo, ["merge-base", "--is-ancestor", tip, "HEAD"])).code === 0)
    return { ok: true, value: { commit: await head(), fastForward: false, alreadyApplied: true } };
  if ((await git(repo, ["merge", "--ff-only", "-q", tip])).code === 0)
    return { ok: true, value: { commit: await head(), fastForward: true, alreadyApplied: false } };
  const merged = await git(repo, [
    ...meshIdentity("apply"),
    "merge",
    "--no-ff",
    "--no-edit",
    "-q",
    "-m",
    `agent-mesh: merge ${branch}`,
    tip,
  ]);
  if (merged.code === 0)
    return { ok: true, value: { commit: await head(), fastForward: false, alreadyApplied: false } };
  const conflicts = (await git(repo, ["diff", "--name-only", "--diff-filter=U"])).stdout
    .split("\n")
    .filter((name) => name.length > 0);
  await git(repo, ["merge", "--abort"]);
  return {
    ok: false,
    error: {
      code: "apply_conflict",
      message: `${branch} does not merge cleanly into ${current || "the checkout"} (conflicts in ${conflicts.join(", ") || "the merge"}); nothing was changed: resolve by hand (git merge ${branch}) or retry the task from the new HEAD`,
      files: conflicts,
    },
  };
}

/** Disk the worktrees folder uses, in bytes (`du -sk` exists on Linux and macOS). */
export async function worktreesDiskBytes(dir: string): Promise<number> {
  return new Promise((resolve) => {
    execFile("du", ["-sk", dir], { timeout: 30_000 }, (error, stdout) =>
      resolve(error === null ? Number(String(stdout).split("\t")[0] ?? 0) * 1024 : 0),
    );
  });
}
