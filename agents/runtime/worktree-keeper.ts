// The agent's worktrees over their lifetime (docs/work-isolation.md):
// one per attempt, made before the CLI runs, committed after it, removed when it can no longer
// win. A failed attempt's worktree goes at once (its branch stays), unless its CLI session can be
// resumed (docs/resume.md: the executor declares `resume` and the run told its session id); a succeeded
// or resumable one stays until its task ends with another winner, its branch is applied, or it is
// older than --keep-worktrees-h. An attempt that resumes an earlier one's session takes over that
// one's folder: from then on the folder is the new attempt's, in memory and in the marker beside
// each finished worktree ("<finished at>\n<attempt>"). The marker also records that it finished, so
// an agent that restarts removes the worktrees of attempts it was running when it died. A worktree
// no longer needed goes back to its repository's pool of spares when there is room
// (docs/repositories.md "Warm worktrees"); the kept ones never do.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApplyOutcome, Result, TaskApply, TaskAssign } from "../../protocol/index.ts";
import type { AgentLog } from "./agent-log.ts";
import { finishWorkspace, workFactsOf } from "./attempt-commit.ts";
import type { WorkFacts } from "./attempt-run-types.ts";
import {
  prepareWorkspace,
  removeWorkspace,
  resumeWorkspace,
  type Workspace,
  type WorkspaceFault,
  workspaceRequestOf,
  worktreesDiskBytes,
} from "./attempt-worktree.ts";
import { CheckoutWatch } from "./checkout-watch.ts";
import { diffPieces } from "./diff-fingerprint.ts";
import { applyBranch } from "./local-apply.ts";
import { RepoMirrors } from "./repo-mirror.ts";
import { repoOf, WARM_WORKTREES_DEFAULT, WarmWorktreePool } from "./warm-worktree-pool.ts";
import { WorktreeDirWatch } from "./worktree-dir-watch.ts";
import { markerOf, removeEmptyFolders, worktreesUnder } from "./worktree-folders.ts";

/** How often disk use is measured for heartbeats, and old worktrees swept. */
const SWEEP_MS = 60_000;

type Kept = {
  workspace: Extract<Workspace, { isolation: "worktree" }>;
  taskId: string;
  attempt: number;
  keptAt: number;
};

export class WorktreeKeeper {
  private readonly kept = new Map<string, Kept>();
  /** Worktree folders a running attempt works in: never resumed by another, never swept. */
  private readonly inUse = new Set<string>();
  private bytes: number | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Whether worktrees can be made in the directory now (docs/faults.md). */
  private readonly dir: WorktreeDirWatch;
  /** The user's checkout around each running attempt, to see what else changed (docs/faults.md). */
  private readonly checkouts = new CheckoutWatch();
  /** The mirrors of repositories tasks name by URL (docs/repositories.md). */
  readonly mirrors: RepoMirrors;
  /** Spare worktrees per repository, for the next attempt (docs/repositories.md "Warm worktrees"). */
  readonly pool: WarmWorktreePool;

  constructor(
    private readonly options: {
      worktreesDir: string;
      keepHours: number;
      log: AgentLog;
      /** Where the repositories' mirrors go (default: `mirrors` beside the worktrees directory). */
      mirrorsDir?: string;
      /** The directory stopped or started working (its reason, or undefined): heartbeats tell the registry. */
      onHealth?: (fault: string | undefined) => void;
      /** Spare worktrees kept per repository (`--warm-worktrees`; 0: none). */
      warmWorktrees?: number;
    },
  ) {
    this.dir = new WorktreeDirWatch({
      worktreesDir: options.worktreesDir,
      log: options.log,
      ...(options.onHealth === undefined ? {} : { onHealth: options.onHealth }),
    });
    this.mirrors = new RepoMirrors({
      mirrorsDir: options.mirrorsDir ?? join(options.worktreesDir, "..", "mirrors"),
      log: options.log,
    });
    this.pool = new WarmWorktreePool({
      worktreesDir: options.worktreesDir,
      size: options.warmWorktrees ?? WARM_WORKTREES_DEFAULT,
      eagerReset: true,
      log: options.log,
    });
  }

  /**
   * Starts the sweeps: at once (removing what a previous run left unfinished), then every minute. The
   * directory is tried first, blocking, so the first hello already says whether the agent is degraded.
   */
  start(): void {
    this.dir.start();
    void this.sweep(true);
    this.timer = setInterval(() => void this.sweep(false), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.dir.stop();
  }

  /** Why the agent makes no worktrees now, or undefined when it does. */
  degraded(): string | undefined {
    return this.dir.degraded();
  }

  /** Tries the directory now; the agent is degraded or well again accordingly. Returns the fault. */
  check(): Promise<string | undefined> {
    return this.dir.check();
  }

  /** Disk the worktrees use, as last measured. */
  diskBytes(): number | undefined {
    return this.bytes;
  }

  /**
   * The attempt's workspace: a fresh worktree from the task's base, or its cwd in place (and why).
   * A worktrees directory at fault ends the attempt as `disk_full`, naming the path and what to
   * do, and degrades the agent until the directory works again; a worktree made there ends it.
   */
  async prepare(assign: TaskAssign, cwd: string): Promise<Result<Workspace, WorkspaceFault>> {
    const prepared = await this.made(
      prepareWorkspace(workspaceRequestOf(assign, cwd), { worktreesDir: this.options.worktreesDir, spares: this.pool }),
    );
    if (prepared.ok && prepared.value.isolation === "worktree") await this.watchCheckout(prepared.value);
    return prepared;
  }

  /**
   * The workspace of a task naming its repository by URL: the agent's mirror of it, fetched once for
   * the task (`onProgress` streams a first clone's progress), and a fresh worktree from it at the
   * resolved base. An unknown or unreachable repository, or a base_ref not on it, is `repo_unavailable`.
   */
  async prepareFromRepo(
    assign: TaskAssign & { repo: string },
    onProgress: (line: string) => void,
  ): Promise<Result<Workspace, WorkspaceFault>> {
    const mirror = await this.mirrors.forTask(assign.task_id, assign.repo, assign.base, onProgress);
    if (!mirror.ok) return mirror;
    const prepared = await this.made(
      prepareWorkspace(
        { ...workspaceRequestOf(assign, mirror.value.gitDir), mirror: mirror.value },
        { worktreesDir: this.options.worktreesDir, spares: this.pool },
      ),
    );
    // No user checkout to watch: the mirror is the agent's own.
    if (prepared.ok && prepared.value.isolation === "worktree") this.inUse.add(prepared.value.worktree);
    return prepared;
  }

  /** A workspace made or refused: a worktree made shows the directory works, a refusal for its sake that it does not. */
  private async made(
    preparing: Promise<Result<Workspace, WorkspaceFault>>,
  ): Promise<Result<Workspace, WorkspaceFault>> {
    const prepared = await preparing.catch(
      (error: unknown): Result<Workspace, WorkspaceFault> => ({
        ok: false,
        error: { failure_class: "syntax_error", message: `the attempt's worktree could not be made: ${String(error)}` },
      }),
    );
    if (!prepared.ok && prepared.error.worktreesDir !== undefined) this.dir.set(prepared.error.worktreesDir);
    if (prepared.ok && prepared.value.isolation === "worktree") this.dir.set(undefined);
    return prepared;
  }

  /** Remembers the user's checkout as it is before the attempt's CLI starts (one git process). */
  private async watchCheckout(workspace: Extract<Workspace, { isolation: "worktree" }>): Promise<void> {
    this.inUse.add(workspace.worktree);
    await this.checkouts.watch(workspace);
  }

  /**
   * What the attempt changed in the user's checkout outside its worktree (docs/faults.md): a CLI
   * that trusted the agent's directory, or wrote by absolute path. Nothing is reverted: the files
   * are the user's now as much as the CLI's. Returns the `wrong_file` message, or undefined.
   */
  outsideChanges(workspace: Extract<Workspace, { isolation: "worktree" }>): Promise<string | undefined> {
    return this.checkouts.outsideChanges(workspace);
  }

  /**
   * The workspace of an attempt that continues attempt `from`'s CLI session: that attempt's folder,
   * which this attempt owns from now on (so `release` keeping this attempt keeps it), or why not.
   */
  async resume(
    assign: TaskAssign,
    cwd: string,
    from: { attempt: number; tier: string },
  ): Promise<Result<Workspace, string>> {
    if (assign.repo !== undefined) return this.resumeFromRepo(assign as TaskAssign & { repo: string }, from);
    const resumed = await this.resumeClaimed(workspaceRequestOf(assign, cwd), from);
    if (resumed.ok && resumed.value.isolation === "worktree") await this.watchCheckout(resumed.value);
    return resumed;
  }

  /**
   * A repo task's resume: the earlier attempt's worktree of the mirror, at the task's recorded base (no fetch: the
   * mirror has it).
   */
  private async resumeFromRepo(
    assign: TaskAssign & { repo: string },
    from: { attempt: number; tier: string },
  ): Promise<Result<Workspace, string>> {
    if (assign.base === undefined) return { ok: false, error: "the task has no recorded base commit to resume from" };
    const gitDir = this.mirrors.pathOf(assign.repo);
    return this.resumeClaimed({ ...workspaceRequestOf(assign, gitDir), mirror: { gitDir, base: assign.base } }, from);
  }

  /**
   * Resumes into the earlier attempt's worktree, which this attempt claims and owns from now on (no longer kept for the
   * earlier one).
   */
  private async resumeClaimed(
    request: Parameters<typeof resumeWorkspace>[0],
    from: { attempt: number; tier: string },
  ): Promise<Result<Workspace, string>> {
    let claimed: string | undefined;
    const claim = (worktree: string): boolean => {
      if (this.inUse.has(worktree)) return false;
      this.inUse.add(worktree);
      claimed = worktree;
      return true;
    };
    const resumed = await resumeWorkspace(request, from, { worktreesDir: this.options.worktreesDir, claim });
    if (!resumed.ok && claimed !== undefined) this.inUse.delete(claimed);
    if (!resumed.ok || resumed.value.isolation !== "worktree") return resumed;
    const folder = resumed.value.worktree;
    for (const [key, entry] of this.kept) if (entry.workspace.worktree === folder) this.kept.delete(key);
    // Unfinished again: should the agent die now, its next start removes the folder like any running attempt's.
    await rm(markerOf(resumed.value), { force: true });
    return resumed;
  }

  /** Commits what the attempt changed; the facts for its exit, and its diff in pieces for the room. */
  async commit(
    workspace: Extract<Workspace, { isolation: "worktree" }>,
    tier: string,
  ): Promise<Result<{ facts: WorkFacts; pieces: string[] }, string>> {
    const finished = await finishWorkspace(workspace, { tier });
    if (!finished.ok) return finished;
    return {
      ok: true,
      value: { facts: workFactsOf(workspace, finished.value), pieces: diffPieces(finished.value.diff) },
    };
  }

  /**
   * The attempt is over: a loser's worktree goes now; one that may still win, or whose session may
   * be resumed, is kept as `attempt`'s (and marked finished).
   */
  async settle(
    workspace: Extract<Workspace, { isolation: "worktree" }>,
    taskId: string,
    attempt: number,
    keep: boolean,
  ): Promise<void> {
    if (!keep) return this.remove(workspace);
    this.inUse.delete(workspace.worktree);
    this.checkouts.forget(workspace.worktree);
    this.kept.set(`${taskId}#${attempt}`, { workspace, taskId, attempt, keptAt: Date.now() });
    await writeFile(markerOf(workspace), `${Date.now()}\n${attempt}`).catch(() => undefined);
  }

  /** The task ended (`worktrees.release`): every kept worktree of it goes but the winner's. */
  async release(taskId: string, keep: number | undefined): Promise<void> {
    this.mirrors.forget(taskId);
    for (const [key, entry] of this.kept) {
      if (entry.taskId !== taskId || entry.attempt === keep) continue;
      this.kept.delete(key);
      await this.remove(entry.workspace);
    }
  }

  /** Merges an attempt's branch into the user's checkout (`apply`); the winner's worktree goes once merged. */
  async merge(request: TaskApply): Promise<ApplyOutcome> {
    this.checkouts.countMerge(request.repo);
    const merged = await applyBranch({
      repo: request.repo,
      branch: request.branch,
      ...(request.target_branch === undefined ? {} : { targetBranch: request.target_branch }),
      base: request.base,
    });
    if (!merged.ok)
      return {
        ok: false,
        code: merged.error.code,
        message: merged.error.message,
        files: merged.error.files.slice(0, 1000),
      };
    const key = `${request.task_id}#${request.attempt}`;
    const entry = this.kept.get(key);
    if (entry !== undefined) {
      this.kept.delete(key);
      await this.remove(entry.workspace);
    }
    return {
      ok: true,
      commit: merged.value.commit,
      fast_forward: merged.value.fastForward,
      already_applied: merged.value.alreadyApplied,
    };
  }

  /**
   * The attempt's worktree is no longer needed (never a kept one: callers take it out of `kept`
   * first): it goes back to its repository's pool of spares, or is removed when the pool is full.
   * `recycle: false` removes it anyway (a dead run's attempt, in whatever state it was left).
   */
  async remove(workspace: Extract<Workspace, { isolation: "worktree" }>, recycle = true): Promise<void> {
    this.inUse.delete(workspace.worktree);
    this.checkouts.forget(workspace.worktree);
    const released = recycle ? this.pool.give(workspace.repo, workspace.worktree) : removeWorkspace(workspace);
    await released.catch((error: unknown) =>
      this.options.log(`could not remove worktree ${workspace.worktree}: ${String(error)}`),
    );
    await rm(markerOf(workspace), { force: true });
  }

  /**
   * Removes worktrees past their keep time, and at start those a previous run left unfinished (no
   * marker: the agent died during the attempt). Layout: <dir>/<repo key>/<task id>/<n>-<tier>.
   */
  private async sweep(atStart: boolean): Promise<void> {
    const dir = this.options.worktreesDir;
    const keepMs = this.options.keepHours * 3600_000;
    for (const [key, entry] of this.kept) {
      if (Date.now() - entry.keptAt < keepMs) continue;
      this.kept.delete(key);
      await this.remove(entry.workspace);
    }
    await this.pool.sweep(keepMs);
    if (atStart) {
      await this.pool.adopt();
      for (const worktree of await worktreesUnder(dir)) {
        if (this.inUse.has(worktree)) continue;
        const marker = await readFile(`${worktree}.done`, "utf8").catch(() => undefined);
        // "<finished at>\n<attempt>"; older markers hold only the time.
        const [at = "", owner] = marker?.split("\n") ?? [];
        const finishedAt = marker === undefined ? undefined : Number(at);
        const repo = await repoOf(worktree);
        if (finishedAt !== undefined && Date.now() - finishedAt < keepMs && repo !== undefined) {
          // A finished attempt that may still win or be resumed: kept, and known again for
          // `worktrees.release` under the attempt that owns it (a resumed one works in an earlier one's folder).
          const [taskId = "", name = ""] = worktree.split("/").slice(-2);
          const attempt = Number.parseInt(owner ?? name, 10);
          this.kept.set(`${taskId}#${attempt}`, {
            workspace: { isolation: "worktree", repo, worktree, cwd: worktree, branch: "", base: "" },
            taskId,
            attempt,
            keptAt: finishedAt,
          });
          continue;
        }
        if (repo === undefined) await rm(worktree, { recursive: true, force: true });
        else await this.remove({ isolation: "worktree", repo, worktree, cwd: worktree, branch: "", base: "" }, false);
        this.options.log(
          `removed the worktree ${worktree}: ${finishedAt === undefined ? "its attempt did not finish" : "past its keep time"}`,
        );
      }
      await removeEmptyFolders(dir);
    }
    this.bytes = await worktreesDiskBytes(dir).catch(() => this.bytes);
  }
}
