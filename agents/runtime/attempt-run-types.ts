// What one attempt's run is given and what it hands back (docs/wire-protocol.md for `attempt.exit`).
import type {
  Acceptance,
  AttemptExit,
  AttemptOutcome,
  ExecutorSpec,
  FailureClass,
  OutputLine,
  Result,
} from "../../protocol/index.ts";
import type { CostCap } from "./attempt-cost-cap.ts";
import type { RateTable } from "./cost-rates.ts";
import type { ProcessSupervisor } from "./process-limits.ts";

export interface AttemptRunInput {
  executor: ExecutorSpec;
  prompt: string;
  cwd: string;
  /**
   * The CLI session to continue (docs/resume.md): the executor's `resume` pieces, with this id, go into the command.
   */
  resumeSession?: string;
  /**
   * With `resumeSession`: the prompt for a fresh start (the task's full prompt, with the earlier
   * attempts' evidence and any guidance). A resume the CLI refuses is run again with it, fresh, in the
   * same cwd (docs/resume.md).
   */
  freshPrompt?: string;
  /** Called once, as soon as the CLI's output names its session id (so the mesh can resume it after a loss). */
  onSession?: (sessionId: string) => void;
  acceptance?: Acceptance;
  supervisor?: ProcessSupervisor;
  /** Prices for CLIs that report no cost; the built-in table by default. */
  rates?: RateTable;
  /**
   * The attempt's cost cap (docs/costs.md): passed to a CLI that takes one (claude `--max-budget-usd`),
   * and enforced from the usage the CLI streams: a run that goes on past it stops as `budget_exceeded`;
   * one whose cost passed it only at its end keeps its result, marked `over_cap`.
   */
  costCap?: CostCap;
  /** Every output line, in order: stdout, stderr, and the runner's own `system` notes. */
  onLine: (line: OutputLine) => void;
  /** The CLI was spawned (after the work tree snapshot). */
  onStarted?: (pid: number) => void;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** After a child exits, how long its pipes may stay open (held by leftovers) before those are killed. */
  drainMs?: number;
  /**
   * In a worktree: commits what the CLI changed, before acceptance runs (so the check's own files stay
   * out of the commit), and says what the commit holds (docs/work-isolation.md).
   */
  commitWork?: () => Promise<Result<WorkFacts, string>>;
  /**
   * Whether to find the files the run changed by snapshots of cwd's git state (default true). Off for
   * a task that named no cwd (it runs in the agent's workdir, whose changes are nobody's business) and
   * for a worktree (its commit says what changed): each snapshot costs a few git processes.
   */
  trackChanges?: boolean;
}

/** What an attempt's commit holds, as `attempt.exit` reports it. */
export type WorkFacts = Pick<
  AttemptExit,
  "isolation" | "branch" | "base" | "commit" | "diff_stat" | "diff_truncated" | "diff_fingerprint" | "checkout"
> & {
  /** Changed files relative to the attempt's cwd: what `allowed_paths` is judged on. */
  changed_files: string[];
};

/** How an attempt ended: the fields of `attempt.exit` the runner knows (docs/wire-protocol.md). */
export type AttemptResult = AttemptOutcome;

export interface RunningAttempt {
  /** The pid (also the process group id) of the child running now: the CLI, then the acceptance command. */
  readonly pid: number | undefined;
  readonly program: string;
  /** Stops the attempt: its current child's process group gets SIGTERM, then SIGKILL; nothing further starts. */
  stop(failureClass: FailureClass, note: string): void;
  /** Stops reading the current child's pipes or reads them again (backpressure). */
  throttle(paused: boolean): void;
  readonly done: Promise<AttemptResult>;
}
