// Whether the agent takes tasks that need a worktree (docs/faults.md): its --worktrees directory is
// probed at start (blocking, so the first hello already says so), after every worktree made or
// refused, and about every heartbeat while it is at fault; a change is logged once and told to the
// registry through heartbeats.
import type { AgentLog } from "./agent-log.ts";
import { probeWorktreesDir, probeWorktreesDirNow } from "./worktree-dir-health.ts";

/** How often a degraded agent tries its worktrees directory again: about a heartbeat (docs/faults.md). */
const RECHECK_MS = 5_000;

export class WorktreeDirWatch {
  private recheck: ReturnType<typeof setInterval> | undefined;
  /** Why no worktree can be made now (the directory is read-only or full); undefined while it works. */
  private fault: string | undefined;

  constructor(
    private readonly options: {
      worktreesDir: string;
      log: AgentLog;
      /** The directory stopped or started working (its reason, or undefined): heartbeats tell the registry. */
      onHealth?: (fault: string | undefined) => void;
    },
  ) {}

  /** Tries the directory now, blocking, then again every few seconds while it is at fault. */
  start(): void {
    const fault = probeWorktreesDirNow(this.options.worktreesDir);
    if (fault !== undefined) this.set(fault.message);
    this.recheck = setInterval(() => void (this.fault === undefined ? undefined : this.check()), RECHECK_MS);
    this.recheck.unref();
  }

  stop(): void {
    if (this.recheck !== undefined) clearInterval(this.recheck);
  }

  /** Why the agent makes no worktrees now, or undefined when it does. */
  degraded(): string | undefined {
    return this.fault;
  }

  /** Tries the directory now; the agent is degraded or well again accordingly. Returns the fault. */
  async check(): Promise<string | undefined> {
    const fault = await probeWorktreesDir(this.options.worktreesDir);
    this.set(fault?.message);
    return fault?.message;
  }

  /** What a worktree made (undefined) or refused for the directory's sake (its reason) showed. */
  set(fault: string | undefined): void {
    if (fault === this.fault) return;
    this.fault = fault;
    this.options.log(
      fault === undefined
        ? `the worktrees directory ${this.options.worktreesDir} works again: taking tasks that need a worktree again`
        : `${fault}; taking no tasks that need a worktree until it works again (tasks without a cwd, or with isolation "none", still run here)`,
    );
    this.options.onHealth?.(fault);
  }
}
