import {
  type Attempt,
  type AttemptExit,
  type AttemptHello,
  type FailureClass,
  FINISHED_TASK_STATUSES,
  type Result,
  refuse,
  type TaskCreate,
  type TaskError,
  type TaskRecord,
} from "../../protocol/index.ts";

/** The result of a transition: the new task, or why the transition is refused. */
export type Transition = Result<TaskRecord>;

/** A new task: its first attempt dispatched, or none yet while it waits for the tasks it is `after`. */
export function newTask(command: TaskCreate, now: number): TaskRecord {
  const after = command.after ?? [];
  return {
    task_id: command.task_id,
    ...(command.name === undefined ? {} : { name: command.name }),
    status: "queued",
    instruction: command.instruction,
    ...(command.cwd === undefined ? {} : { cwd: command.cwd }),
    tier: command.tier,
    agent_selector: command.agent_selector,
    ...(command.acceptance === undefined ? {} : { acceptance: command.acceptance }),
    ...(command.isolation === undefined ? {} : { isolation: command.isolation }),
    ...(command.base_ref === undefined ? {} : { base_ref: command.base_ref }),
    ...(command.repo === undefined ? {} : { repo: command.repo }),
    ...(command.deliver === undefined ? {} : { deliver: command.deliver }),
    ...(command.max_cost_usd === undefined ? {} : { max_cost_usd: command.max_cost_usd }),
    ...(command.priority === undefined ? {} : { priority: command.priority }),
    ...(command.kind === undefined ? {} : { kind: command.kind }),
    ...(command.routing === undefined ? {} : { routing: command.routing }),
    ...(command.trace_id === undefined
      ? {}
      : {
          trace_id: command.trace_id,
          ...(command.trace_parent === undefined ? {} : { trace_parent: command.trace_parent }),
        }),
    ...(command.notify === undefined ? {} : { notify: command.notify }),
    ...(command.queue_timeout_s === undefined ? {} : { queue_timeout_s: command.queue_timeout_s }),
    ...(after.length === 0 ? {} : { after, waiting: { for: "tasks" as const, ids: after, since: now } }),
    attempts: after.length === 0 ? [newAttempt(1, command.tier, now)] : [],
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    latency_ms: 0,
    created_at: now,
    updated_at: now,
  };
}

/** A new attempt waiting for an agent; one step of the ladder unless `role` says otherwise. */
export function newAttempt(
  n: number,
  tier: Attempt["tier"],
  now: number,
  role: NonNullable<Attempt["role"]> = "sequential",
  guidance?: string,
): Attempt {
  return {
    n,
    tier,
    executor: "",
    agent: null,
    status: "dispatched",
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    latency_ms: 0,
    dispatched_at: now,
    role,
    ...(guidance === undefined ? {} : { guidance }),
  };
}

/** Whether an attempt has not ended yet: waiting for an agent, or running. */
export function isOpenAttempt(attempt: Attempt): boolean {
  return attempt.status === "dispatched" || attempt.status === "running";
}

export function isFinished(task: TaskRecord): boolean {
  return FINISHED_TASK_STATUSES.includes(task.status);
}

/** The attempt numbered `n`, if the task has one. */
export function attemptOf(task: TaskRecord, n: number): Attempt | undefined {
  return task.attempts.find((attempt) => attempt.n === n);
}

function withAttempt(task: TaskRecord, updated: Attempt, changes: Partial<TaskRecord>, now: number): TaskRecord {
  return {
    ...task,
    ...changes,
    attempts: task.attempts.map((a) => (a.n === updated.n ? updated : a)),
    updated_at: now,
  };
}

/**
 * An agent says it runs attempt `hello.attempt`. Accepted when that attempt waits for an agent, or
 * when the same agent reconnects to an attempt it already runs.
 */
export function startAttempt(task: TaskRecord, hello: AttemptHello, now: number): Transition {
  const attempt = attemptOf(task, hello.attempt);
  if (attempt === undefined) return refuse("not_assigned", `task ${task.task_id} has no attempt ${hello.attempt}`);
  if (attempt.status === "running" && attempt.agent === hello.agent) return { ok: true, value: task };
  if (attempt.status !== "dispatched" || isFinished(task)) {
    return refuse(
      "not_assigned",
      `attempt ${hello.attempt} of task ${task.task_id} is ${attempt.status} (task ${task.status}); stop it`,
    );
  }
  const running: Attempt = {
    ...attempt,
    status: "running",
    agent: hello.agent,
    executor: hello.executor,
    started_at: now,
    ...(hello.resumed_from === undefined ? {} : { resumed_from: hello.resumed_from }),
  };
  return { ok: true, value: withAttempt(task, running, { status: "running" }, now) };
}

/** How an exit reads when the agent gave no class: exit 0 succeeds, anything else is a quality failure. */
function classify(exit: AttemptExit): { status: "succeeded" | "failed" | "cancelled"; failure?: FailureClass } {
  if (exit.failure_class === "cancelled") return { status: "cancelled", failure: "cancelled" };
  if (exit.failure_class !== undefined) return { status: "failed", failure: exit.failure_class };
  if (exit.exit_code === 0 && exit.error === undefined) return { status: "succeeded" };
  return { status: "failed", failure: "unknown" };
}

function failureOf(attempt: Attempt, exit: AttemptExit): TaskError {
  const code = attempt.failure_class ?? "unknown";
  if (exit.error !== undefined) return { code, message: exit.error.message };
  if (exit.signal !== null) return { code, message: `attempt ${attempt.n} was killed by ${exit.signal}` };
  return {
    code,
    message: `attempt ${attempt.n} exited with code ${exit.exit_code ?? "unknown"}; read its log for the cause`,
  };
}

const withResultOf = (task: TaskRecord, attempt: Attempt, changes: Partial<TaskRecord>, now: number): TaskRecord =>
  withResult(withAttempt(task, attempt, changes, now));

/** What an exit says of the attempt's work: where it ran, its commit and diff, its acceptance evidence. */
function workOf(exit: AttemptExit): Partial<Attempt> {
  return {
    ...(exit.isolation === undefined ? {} : { isolation: exit.isolation }),
    ...(exit.branch === undefined ? {} : { branch: exit.branch }),
    ...(exit.base === undefined ? {} : { base: exit.base }),
    ...(exit.commit === undefined ? {} : { commit: exit.commit }),
    ...(exit.diff_stat === undefined ? {} : { diff_stat: exit.diff_stat }),
    ...(exit.diff_truncated === undefined ? {} : { diff_truncated: exit.diff_truncated }),
    ...(exit.diff_fingerprint === undefined ? {} : { diff_fingerprint: exit.diff_fingerprint }),
    ...(exit.acceptance === undefined ? {} : { acceptance: exit.acceptance }),
    ...(exit.checkout === undefined ? {} : { checkout: exit.checkout }),
  };
}

/**
 * A resume the CLI refused (docs/resume.md): the attempt ran fresh, so it did not continue the session
 * its hello named; it records which one it asked for instead.
 */
function resumeOutcome(attempt: Attempt, exit: AttemptExit): Attempt {
  if (exit.resume_refused !== true || attempt.resumed_from === undefined) return attempt;
  const { resumed_from: refused, ...fresh } = attempt;
  return { ...fresh, resume_refused: refused };
}

/** An agent reports the end of its attempt. A task cancelled meanwhile keeps its status; the exit is recorded. */
export function finishAttempt(task: TaskRecord, agent: string, exit: AttemptExit, now: number): Transition {
  const attempt = attemptOf(task, exit.attempt);
  if (attempt === undefined || attempt.agent !== agent) {
    return refuse("not_assigned", `attempt ${exit.attempt} of task ${task.task_id} is not held by agent ${agent}`);
  }
  if (attempt.status !== "running" && attempt.status !== "cancelled") {
    return refuse("conflict", `attempt ${exit.attempt} already ended as ${attempt.status}`);
  }
  const outcome = classify(exit);
  const ended: Attempt = {
    ...resumeOutcome(attempt, exit),
    status: attempt.status === "cancelled" ? "cancelled" : outcome.status,
    ...(exit.exit_code === null ? {} : { exit_code: exit.exit_code }),
    ...(exit.signal === null ? {} : { signal: exit.signal }),
    ...(attempt.status === "cancelled" ? {} : outcome.failure === undefined ? {} : { failure_class: outcome.failure }),
    latency_ms: exit.duration_ms,
    ended_at: now,
    ...(exit.model === undefined ? {} : { model: exit.model }),
    ...(exit.session_id === undefined ? {} : { session_id: exit.session_id }),
    ...(exit.tokens === undefined ? {} : { tokens: exit.tokens }),
    ...(exit.cost_usd === undefined ? {} : { cost_usd: exit.cost_usd }),
    // Its cost came only at its end and passed its cap: it keeps its result (docs/budget.md).
    ...(exit.over_cap === true ? { over_cap: true } : {}),
    ...(exit.changed_files === undefined ? {} : { changed_files: exit.changed_files }),
    ...(exit.output === undefined ? {} : { output: exit.output.slice(-16_000) }),
    ...workOf(exit),
  };
  if (attempt.status === "cancelled") return { ok: true, value: withAttempt(task, ended, {}, now) };
  const attempts = task.attempts.map((a) => (a.n === ended.n ? ended : a));
  const totals = {
    tokens: {
      input: attempts.reduce((sum, a) => sum + a.tokens.input, 0),
      output: attempts.reduce((sum, a) => sum + a.tokens.output, 0),
    },
    cost_usd: attempts.reduce((sum, a) => sum + a.cost_usd, 0),
    latency_ms: attempts.reduce((sum, a) => sum + a.latency_ms, 0),
  };
  // While other attempts run (consensus), the task runs on; the escalation plan judges the round.
  const stillOpen = attempts.some(isOpenAttempt);
  const status = stillOpen ? "running" : outcome.status;
  const failed = status === "failed";
  // Every later attempt starts from the commit the first one resolved (docs/work-isolation.md).
  const base = task.base ?? exit.base;
  return {
    ok: true,
    value: withResultOf(
      task,
      ended,
      {
        ...totals,
        status,
        ...(base === undefined ? {} : { base }),
        ...(exit.output === undefined ? {} : { output: exit.output }),
        ...(failed ? { error: failureOf(ended, exit) } : {}),
      },
      now,
    ),
  };
}

/** A person or orchestrator cancels the task; every open attempt is marked cancelled. */
export function cancelTask(task: TaskRecord, reason: string, now: number): Transition {
  if (isFinished(task)) return refuse("conflict", `task ${task.task_id} already ${task.status}; nothing to cancel`);
  const attempts = task.attempts.map(
    (a): Attempt => (isOpenAttempt(a) ? { ...a, status: "cancelled", failure_class: "cancelled", ended_at: now } : a),
  );
  return {
    ok: true,
    value: {
      ...task,
      attempts,
      status: "cancelled",
      error: { code: "cancelled", message: `cancelled: ${reason}` },
      updated_at: now,
    },
  };
}

/**
 * A succeeded task's `result`: the attempt it took (the winner, else the last that succeeded) and
 * where its work is (docs/work-isolation.md).
 */
export function withResult(task: TaskRecord): TaskRecord {
  if (task.status !== "succeeded") return task;
  const taken =
    task.winner === undefined
      ? task.attempts.filter((a) => a.status === "succeeded").at(-1)
      : attemptOf(task, task.winner);
  if (taken === undefined) return task;
  const result = {
    attempt: taken.n,
    ...(taken.branch === undefined || taken.commit === undefined ? {} : { branch: taken.branch, commit: taken.commit }),
    ...(taken.base === undefined ? {} : { base: taken.base }),
    ...(taken.diff_stat === undefined ? {} : { diff_stat: taken.diff_stat }),
  };
  return { ...task, result };
}

/** At most this many attempts in all (docs/escalation.md). */
export const MAX_ATTEMPTS = 5;

/**
 * The registry gave up the agent of attempt `n`: the attempt fails as `agent_lost`. The one infra
 * failure that is retried: once, at the same tier, on another agent (the caller dispatches the new
 * attempt). Otherwise the task fails.
 */
export function loseAttempt(
  task: TaskRecord,
  n: number,
  agent: string,
  reason: string,
  now: number,
): Result<TaskRecord> & { retry?: Attempt } {
  const attempt = attemptOf(task, n);
  if (attempt === undefined || isFinished(task))
    return refuse("conflict", `task ${task.task_id} has no open attempt ${n}`);
  if (
    (attempt.status !== "running" && attempt.status !== "dispatched") ||
    (attempt.agent !== null && attempt.agent !== agent)
  ) {
    return refuse(
      "conflict",
      `attempt ${n} is ${attempt.status}${attempt.agent ? ` on ${attempt.agent}` : ""}; nothing to give up`,
    );
  }
  const lost: Attempt = {
    ...attempt,
    agent,
    status: "failed",
    failure_class: "agent_lost",
    ended_at: now,
    latency_ms: attempt.started_at === undefined ? 0 : now - attempt.started_at,
  };
  const earlierLosses = task.attempts.filter((a) => a.tier === attempt.tier && a.failure_class === "agent_lost").length;
  const canRetry = earlierLosses === 0 && task.attempts.length < MAX_ATTEMPTS;
  // Other attempts still running (a consensus round): the task runs on, and the round is judged when they end.
  const othersOpen = task.attempts.some((a) => a.n !== n && isOpenAttempt(a));
  if (!canRetry) {
    const changes: Partial<TaskRecord> = othersOpen
      ? {}
      : {
          status: "failed",
          error: {
            code: "agent_lost",
            message: `${reason}; attempt ${n} was lost and the same tier was already retried once`,
          },
        };
    return { ok: true, value: withAttempt(task, lost, changes, now) };
  }
  // The retry keeps the lost attempt's role and round, so a consensus round stays one round, and its
  // guidance, which the lost run's model may not have read (docs/resume.md).
  const retry: Attempt = {
    ...newAttempt(task.attempts.length + 1, attempt.tier, now, attempt.role ?? "sequential", attempt.guidance),
    dispatched_at: attempt.role === "consensus" ? attempt.dispatched_at : now,
  };
  const attempts = [...task.attempts.map((a) => (a.n === n ? lost : a)), retry];
  return {
    ok: true,
    value: { ...task, attempts, status: othersOpen ? task.status : "queued", updated_at: now },
    retry,
  };
}

/** Agents a new attempt must avoid: those this task already lost. */
export function lostAgents(task: TaskRecord): string[] {
  return [
    ...new Set(
      task.attempts.filter((a) => a.failure_class === "agent_lost" && a.agent !== null).map((a) => a.agent as string),
    ),
  ];
}
