import { basename } from "node:path";
import type { AttemptExit, ExecutorSpec, Result, SessionArchiveRef, TaskAssign } from "../../protocol/index.ts";
import { type AgentLog, formatDuration } from "./agent-log.ts";
import type { CostCap } from "./attempt-cost-cap.ts";
import { planResume } from "./attempt-resume.ts";
import type { RunningAttempt } from "./attempt-run-types.ts";
import { runAttempt } from "./attempt-runner.ts";
import type { Workspace, WorkspaceFault } from "./attempt-worktree.ts";
import { withTraceparent } from "./child-trace-env.ts";
import type { RateTable } from "./cost-rates.ts";
import type { OpenTransport } from "./link-transport.ts";
import type { RunningGroup } from "./process-group-run.ts";
import type { ProcessSupervisor } from "./process-limits.ts";
import { runRepoSetup } from "./repo-setup.ts";
import { fetchSessionArchive } from "./session-archive-fetch.ts";
import { archiveForRoom, restoreCarried } from "./session-handoff.ts";
import { TaskLink } from "./task-link.ts";
import type { TaskScratchDirs } from "./task-scratch-dir.ts";
import type { WorktreeKeeper } from "./worktree-keeper.ts";

export interface AttemptSessionInput {
  assign: TaskAssign;
  executor: ExecutorSpec;
  agent: string;
  server: URL;
  token: string;
  /** The cwd of a task that names none, when no `scratch` is given (tests). */
  workdir: string;
  /** Per-task empty directories for tasks naming neither cwd nor repo (docs/repositories.md). */
  scratch?: TaskScratchDirs;
  supervisor: ProcessSupervisor;
  /** Prices for CLIs that report no cost. */
  rates: RateTable;
  log: AgentLog;
  /** The agent's worktrees: each attempt with a cwd runs in its own (docs/work-isolation.md). */
  worktrees?: WorktreeKeeper;
  /** How the task link reaches its room; a partysocket by default, an in-memory transport in tests. */
  openTransport?: OpenTransport;
}

export interface AttemptSession {
  /** Resolves when the attempt is over and reported (or given up). */
  readonly done: Promise<void>;
  /** The pid of the running child, for a last-resort kill when the agent dies. */
  readonly pid: () => number | undefined;
  /** The agent is stopping: kill the child and report it lost, briefly. */
  abort(): void;
  /** What heartbeats say of it: when the child last printed, and whether it still lives. */
  status(): { last_output_at?: number; child_alive: boolean };
}

/**
 * Backpressure: past this many unacknowledged lines the child's pipes are no longer read, so a
 * child that outpaces the mesh blocks on its own writes instead of losing output; reading resumes
 * once the room has caught up to the low mark.
 */
const BACKLOG_HIGH = 20_000;
const BACKLOG_LOW = 5_000;

/** How long a stopping agent waits for the room to confirm an exit. */
const ABORT_REPORT_MS = 3000;

/**
 * One assignment from start to release: whether it resumes an earlier session is settled first (its
 * hello says so), the task room must accept the attempt before the child is spawned (a CLI run costs
 * money), then lines stream out and the exit is reported after the last one.
 */
export function startAttemptSession(input: AttemptSessionInput): AttemptSession {
  const { assign, log } = input;
  const label = `task ${assign.task_id} attempt ${assign.attempt}`;
  const program = basename(input.executor.command[0] ?? "");
  let runner: RunningAttempt | undefined;
  /** The repository's `.agent-mesh/setup` while it runs (a cancel stops it too). */
  let setupRun: RunningGroup | undefined;
  /** A cancel that came before the CLI started (while the repository was cloned or set up): why. */
  let cancelledBeforeRun: string | undefined;
  let lost = false;
  let aborted = false;
  let exited = false;
  // A stopping agent gives the room a few seconds after the exit to confirm it, no more.
  let endAbortWait: () => void = () => {};
  const abortWaitOver = new Promise<void>((resolve) => (endAbortWait = resolve));
  const startAbortWait = (): void => void setTimeout(endAbortWait, ABORT_REPORT_MS);

  let throttled = false;
  let lastOutputAt: number | undefined;
  const openLink = (resumedFrom: number | undefined): TaskLink => {
    const opened: TaskLink = new TaskLink({
      server: input.server,
      token: input.token,
      agent: input.agent,
      taskId: assign.task_id,
      attempt: assign.attempt,
      executor: program,
      ...(resumedFrom === undefined ? {} : { resumedFrom }),
      log,
      onCancel: (reason) => {
        if (runner === undefined) cancelledBeforeRun = `cancelled (${reason}) before the CLI started`;
        setupRun?.stop("cancelled", `cancelled (${reason}); stopping the repository's setup`);
        runner?.stop("cancelled", `cancelled (${reason}); stopping its process group`);
      },
      onLost: () => {
        lost = true;
        runner?.stop("cancelled", "the attempt is no longer this agent's; stopping its process group");
      },
      onAcknowledged: () => {
        if (throttled && opened.backlog <= BACKLOG_LOW) {
          throttled = false;
          runner?.throttle(false);
        }
      },
      ...(input.openTransport === undefined ? {} : { openTransport: input.openTransport }),
    });
    return opened;
  };
  // Opened once the resume is settled: the first hello must say whether the attempt resumes.
  let opened: TaskLink | undefined;

  const run = async (): Promise<void> => {
    const keeper = input.worktrees;
    // Another agent's session comes from the task room (docs/sessions.md); `plan` turns fresh if it cannot be restored
    // here.
    const fetchArchive = (attempt: number, ref: SessionArchiveRef) =>
      fetchSessionArchive({ server: input.server, token: input.token, taskId: assign.task_id, attempt, ref });
    let plan = await planResume({
      assign,
      executor: input.executor,
      agent: input.agent,
      fetchArchive,
      ...(keeper === undefined ? {} : { worktrees: keeper }),
    });
    const resumedWorktree = plan.resumed && plan.workspace?.isolation === "worktree" ? plan.workspace : undefined;
    // Not run after all: the earlier attempt's folder is its own again, for a later resume or the task's end.
    const giveBack = async (): Promise<void> => {
      if (resumedWorktree !== undefined && plan.resumed)
        await keeper?.settle(resumedWorktree, assign.task_id, plan.from, true);
    };
    if (aborted) return giveBack();
    const link = openLink(plan.resumed ? plan.from : undefined);
    opened = link;
    if (!(await link.accepted) || aborted) {
      link.close();
      return giveBack();
    }
    const note = (text: string): void => link.addLine({ stream: "system", text: `[agent] ${text}`, ts: Date.now() });
    if (!plan.resumed && plan.note !== undefined) {
      note(plan.note);
      log(`${label}: ${plan.note}`);
    }
    if (plan.resumed) log(`${label}: resuming attempt ${plan.from}'s session ${plan.sessionId}`);
    const setupStarted = Date.now();
    const prepared =
      plan.resumed && plan.workspace !== undefined
        ? { ok: true as const, value: plan.workspace }
        : await prepareNew(assign, keeper, (text) => link.addLine({ stream: "stderr", text, ts: Date.now() }));
    const failSetup = async (failure: {
      failure_class: AttemptExit["failure_class"];
      message: string;
    }): Promise<void> => {
      note(failure.message);
      log(`${label}: ${failure.message.split("\n")[0] ?? ""}`);
      await link.finish({
        exit_code: null,
        signal: null,
        duration_ms: Date.now() - setupStarted,
        ...(failure.failure_class === undefined ? {} : { failure_class: failure.failure_class }),
        error: { code: "internal", message: failure.message },
      });
      link.close();
    };
    if (prepared !== undefined && !prepared.ok) {
      // A bad base_ref (syntax_error), a full or read-only worktrees directory (disk_full, docs/faults.md),
      // a repository that cannot be cloned or fetched (repo_unavailable, docs/repositories.md).
      // A stopping agent ended its clone: not the repository's fault; the registry requeues the attempt.
      if (aborted || lost) {
        link.close();
        return;
      }
      return failSetup(prepared.error);
    }
    const workspace = prepared?.value;
    // A new worktree runs the repository's own setup first (docs/repositories.md); a resumed one had it.
    if (workspace?.isolation === "worktree" && (!plan.resumed || plan.carried !== undefined) && keeper !== undefined) {
      const setup = await runRepoSetup({
        worktree: workspace.worktree,
        timeoutS: input.executor.timeout_s,
        supervisor: input.supervisor,
        onLine: (stream, text) => link.addLine({ stream, text, ts: Date.now() }),
        onStarted: (group) => (setupRun = group),
      });
      setupRun = undefined;
      if (!setup.ok) {
        await keeper.settle(workspace, assign.task_id, assign.attempt, false);
        return failSetup({
          failure_class: aborted || lost || cancelledBeforeRun !== undefined ? "cancelled" : "setup_failed",
          message: setup.error,
        });
      }
    }
    // Cancelled, lost or stopping while the repository was cloned or set up: the CLI never starts.
    if ((!plan.resumed || plan.carried !== undefined) && (cancelledBeforeRun !== undefined || aborted || lost)) {
      if (workspace?.isolation === "worktree") await keeper?.settle(workspace, assign.task_id, assign.attempt, false);
      if (cancelledBeforeRun !== undefined && !aborted && !lost)
        return failSetup({ failure_class: "cancelled", message: cancelledBeforeRun });
      link.close();
      return;
    }
    if (workspace?.isolation === "none") note(workspace.reason);
    if (plan.resumed) {
      const where =
        workspace?.isolation !== "worktree"
          ? ""
          : plan.carried !== undefined
            ? ` from agent ${plan.carried.from} in a new worktree ${workspace.worktree} (branch ${workspace.branch}, from ${workspace.base.slice(0, 12)})`
            : ` in its worktree ${workspace.worktree} (now on branch ${workspace.branch}; the diff is still from ${workspace.base.slice(0, 12)})`;
      note(`resuming attempt ${plan.from}'s session ${plan.sessionId}${where}`);
    } else if (workspace?.isolation === "worktree") {
      note(
        `working in its own worktree ${workspace.worktree} (branch ${workspace.branch}, from ${workspace.base.slice(0, 12)}); your checkout is not touched`,
      );
    }
    // Neither cwd nor repo: a new empty directory of the task's, never the agent's own (docs/repositories.md).
    const cwd =
      workspace?.cwd ??
      assign.cwd ??
      (input.scratch === undefined ? input.workdir : await input.scratch.forTask(assign.task_id));
    // A carried session that cannot be restored runs fresh; the exit says so, like a resume the CLI refuses
    // (docs/sessions.md).
    let carriedFresh = false;
    if (plan.resumed && plan.carried !== undefined) {
      plan = await restoreCarried(plan, {
        executor: input.executor,
        cwd,
        note,
        ...(workspace?.isolation === "worktree" ? { worktree: workspace.worktree } : {}),
      });
      carriedFresh = !plan.resumed;
    }
    // The cap the budget granted when it let the attempt start replaces the assignment's (docs/costs.md).
    const cap: CostCap | undefined =
      link.cap ?? (assign.max_cost_usd === undefined ? undefined : { usd: assign.max_cost_usd, of: "assigned" });
    let pieces: string[] = [];
    const started = runAttempt({
      executor: withTraceparent(input.executor, assign.traceparent),
      prompt: plan.resumed ? plan.prompt : assign.prompt,
      // A resume the CLI refuses runs again fresh with the full prompt (docs/resume.md).
      ...(plan.resumed ? { resumeSession: plan.sessionId, freshPrompt: assign.prompt } : {}),
      cwd,
      trackChanges: assign.cwd !== undefined || assign.acceptance?.allowed_paths !== undefined,
      ...(workspace?.isolation === "worktree" && keeper !== undefined
        ? {
            commitWork: async () => {
              const committed = await keeper.commit(workspace, assign.tier);
              if (!committed.ok) return committed;
              pieces = committed.value.pieces;
              return { ok: true as const, value: committed.value.facts };
            },
          }
        : {}),
      acceptance: assign.acceptance,
      supervisor: input.supervisor,
      rates: input.rates,
      ...(cap === undefined ? {} : { costCap: cap }),
      onSession: (sessionId) => link.reportSession(sessionId),
      onStarted: (pid) => {
        log(`${label} started: ${program} pid ${pid} in ${cwd}`);
        link.addLine({
          stream: "system",
          text: `[agent] ${input.agent} started ${program} (pid ${pid}) in ${cwd}`,
          ts: Date.now(),
        });
      },
      onLine: (line) => {
        if (line.stream !== "system") lastOutputAt = line.ts;
        link.addLine(line);
        if (!throttled && link.backlog >= BACKLOG_HIGH) {
          throttled = true;
          runner?.throttle(true);
        }
      },
    });
    runner = started;
    const finished = await started.done;
    // A CLI that wrote into the user's checkout outside its worktree fails `wrong_file` (docs/faults.md).
    const outside = workspace?.isolation === "worktree" ? await keeper?.outsideChanges(workspace) : undefined;
    if (outside !== undefined) note(`wrong_file: ${outside}`);
    const ran =
      outside === undefined
        ? finished
        : { ...finished, failure_class: "wrong_file" as const, error: { code: "internal" as const, message: outside } };
    const result = {
      ...(workspace?.isolation === "none" ? { ...ran, isolation: "none" as const } : ran),
      ...(carriedFresh ? { resume_refused: true as const } : {}),
    };
    const how =
      result.failure_class ??
      (result.signal !== null ? `killed by ${result.signal}` : `exited ${result.exit_code ?? "?"}`);
    log(
      `${label} ${how}${result.exit_code !== null && result.failure_class !== undefined ? ` (exit ${result.exit_code})` : ""} in ${formatDuration(result.duration_ms)}`,
    );
    if (result.error !== undefined) log(`${label}: ${result.error.message}`);
    exited = true;
    if (aborted) startAbortWait();
    // A session another attempt may continue (a person's retry, a retry after agent_lost) keeps its folder.
    const resumable = input.executor.resume !== undefined && result.session_id !== undefined;
    if (lost) {
      // No longer ours: its work cannot win, but its session may be resumed.
      if (workspace?.isolation === "worktree")
        await keeper?.settle(workspace, assign.task_id, assign.attempt, resumable);
      return;
    }
    const sessionArchive = await archiveForRoom({
      executor: input.executor,
      attempt: assign.attempt,
      sessionId: result.session_id,
      cwd,
      note,
    });
    await Promise.race([link.finish(result, pieces, sessionArchive), abortWaitOver]);
    link.close();
    if (workspace?.isolation === "worktree" && keeper !== undefined)
      await keeper.settle(
        workspace,
        assign.task_id,
        assign.attempt,
        resumable || (result.failure_class === undefined && result.exit_code === 0),
      );
  };

  const done = run().catch((cause: unknown) => {
    log(`${label}: ${cause instanceof Error ? cause.message : String(cause)}`);
    opened?.close();
  });

  return {
    done,
    pid: () => runner?.pid,
    status: () => ({
      ...(lastOutputAt === undefined ? {} : { last_output_at: lastOutputAt }),
      child_alive: runner !== undefined && !exited,
    }),
    abort: () => {
      if (aborted) return;
      aborted = true;
      if (exited) startAbortWait();
      else if (runner === undefined) opened?.close();
      else runner.stop("agent_lost", `agent ${input.agent} is stopping; stopping its process group`);
    },
  };
}

/**
 * A new attempt's workspace: from the agent's mirror for a repo task, from its cwd's repository for a cwd task; none
 * for neither.
 */
async function prepareNew(
  assign: TaskAssign,
  keeper: WorktreeKeeper | undefined,
  onProgress: (line: string) => void,
): Promise<Result<Workspace, WorkspaceFault> | undefined> {
  if (assign.repo !== undefined) {
    if (keeper === undefined)
      return {
        ok: false,
        error: {
          failure_class: "repo_unavailable",
          message: `this agent has no git worktree support (git missing or older than 2.17): it cannot clone ${assign.repo}`,
        },
      };
    return keeper.prepareFromRepo({ ...assign, repo: assign.repo }, onProgress);
  }
  return assign.cwd === undefined || keeper === undefined ? undefined : keeper.prepare(assign, assign.cwd);
}
