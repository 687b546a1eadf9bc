import {
  type ApplyRequest,
  type AttemptExit,
  FINISHED_TASK_STATUSES,
  type ResolveDecision,
  resolveExecutorTier,
  type TaskCreate,
  type TaskDependency,
  type TaskRecord,
} from "../../protocol/index.ts";
import { type Plan, planNext, resolveTask, startingTier } from "./escalation.ts";
import { onHalted, onHello, onStarted } from "./start-gate.ts";
import { deliveredTask } from "./task-delivery.ts";
import {
  type Decision,
  refused,
  stored,
  summaryOf,
  type TaskActorContext,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "./task-events.ts";
import { beginTask, dependencyStep, resumeOf, unservedAttempt, withSession, withWaiting } from "./task-schedule.ts";
import { attemptOf, cancelTask, finishAttempt, isOpenAttempt, loseAttempt, newTask } from "./task-state.ts";

export {
  type Decision,
  emptyTaskActor,
  type TaskActorContext,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "./task-events.ts";

/**
 * The task actor: the one owner of a task's lifecycle. `decide` is a pure function of the
 * state and one event (task-events.ts) that returns the next state and the effects the room carries out.
 */
export function decide(state: TaskActorState, event: TaskEvent, ctx: TaskActorContext): Decision {
  switch (event.type) {
    case "create-requested":
      return onCreate(state, event.command, ctx);
    case "admission-answered":
      return onAdmitted(state, event, ctx);
    case "hello-received":
      return onHello(state, event, ctx);
    case "start-answered":
      return onStarted(state, event, ctx);
    case "budget-halted":
      return onHalted(state, event, ctx);
    case "attempt-exited":
      return onExit(state, event, ctx);
    case "agent-lost":
      return onLost(state, event, ctx);
    case "reservation-answered":
      return onReserved(state, event, ctx);
    case "cancel-requested":
      return onCancel(state, event, ctx);
    case "person-decided":
      return onResolve(state, event.command, ctx);
    case "apply-requested":
      return onApply(state, event.attempt, ctx);
    case "apply-answered":
      return onApplied(state, event, ctx);
    case "delivery-answered": {
      if (state.task === null) return { state, effects: [] };
      const { task, note } = deliveredTask(state.task, event.mode, event.outcome, ctx.now);
      const change = stored(state.task, task, note, event.attempt);
      return { state: { ...state, task: change.task }, effects: change.effects };
    }
    case "room-resumed": {
      const task = state.task;
      // Waiting for other tasks: ask them again (a notice may have been lost with the restart).
      if (task?.status === "queued" && task.waiting?.for === "tasks" && task.attempts.length === 0)
        return { state, effects: [{ kind: "watch-tasks", ids: task.waiting.ids ?? [] }] };
      return {
        state,
        effects: (task?.attempts ?? [])
          .filter((a) => a.status === "dispatched")
          .map((a) => ({ kind: "reserve-attempt", attempt: a.n, tier: a.tier })),
      };
    }
    case "watch-requested":
      return onWatch(state, event.dependent, ctx);
    case "session-reported": {
      const noted = state.task === null ? null : withSession(state.task, event.attempt, event.sessionId, ctx.now);
      if (state.task === null || noted === null) return { state, effects: [] };
      const change = stored(
        state.task,
        noted,
        `attempt ${event.attempt} runs CLI session ${event.sessionId}`,
        event.attempt,
      );
      return { state: { ...state, task: change.task }, effects: change.effects };
    }
    case "dependency-heard":
      return onDependency(state, event.news, ctx);
    case "served-tiers-read": {
      const task = state.task;
      if (task === null || task.status !== "queued" || task.attempts.length > 0) return { state, effects: [] };
      const begun = beginTask(task, event.served, ctx.now);
      const skipped = begun.tier !== task.tier ? ` (skipped to ${begun.tier}: no agent serves ${task.tier})` : "";
      const first = attemptOf(begun, 1);
      const change = stored(task, begun, `queued at tier ${begun.tier}${skipped}`, 1);
      return {
        state: { ...state, task: change.task },
        effects: [
          ...change.effects,
          ...(first === undefined ? [] : [{ kind: "reserve-attempt" as const, attempt: 1, tier: first.tier }]),
        ],
      };
    }
    case "attempt-unserved": {
      const task = state.task;
      const failed =
        task === null ? null : unservedAttempt(task, event.attempt, event.message, ctx.now, event.failureClass);
      if (task === null || failed === null)
        return refused(state, "conflict", `attempt ${event.attempt} is not waiting for an agent`);
      const given = attemptOf(failed, event.attempt);
      const change = stored(
        task,
        failed,
        `attempt ${event.attempt} failed (${event.failureClass ?? "no_agent"}): ${event.message}`,
        event.attempt,
      );
      const effects = [
        ...change.effects,
        ...(given === undefined ? [] : [{ kind: "settle-attempt" as const, attempt: given }]),
      ];
      return { state: { ...state, task: change.task }, effects, reply: { ok: true, value: change.task } };
    }
  }
}

/**
 * A task waiting for this one asks to hear of its end: remembered; the answer is the task now (already over: the
 * dependent acts on it).
 */
function onWatch(state: TaskActorState, dependent: string, ctx: TaskActorContext): Decision {
  const task = state.task;
  if (task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  if ((task.dependents ?? []).includes(dependent) || FINISHED_TASK_STATUSES.includes(task.status))
    return { state, effects: [], reply: { ok: true, value: task } };
  const watched: TaskRecord = { ...task, dependents: [...(task.dependents ?? []), dependent] };
  return {
    state: { ...state, task: watched },
    effects: [
      {
        kind: "store-task",
        task: watched,
        note: `task ${dependent} waits for this one`,
        attempt: Math.max(1, task.attempts.length),
      },
    ],
    reply: { ok: true, value: watched },
  };
}

function onDependency(state: TaskActorState, news: TaskDependency, ctx: TaskActorContext): Decision {
  const task = state.task;
  if (task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  const step = dependencyStep(task, news, ctx.now);
  if (step.kind === "none") return { state, effects: [], reply: { ok: true, value: task } };
  const change = stored(task, step.task, step.note, 1);
  if (step.kind === "ready") change.effects.push({ kind: "read-served-tiers" });
  return { state: { ...state, task: change.task }, effects: change.effects, reply: { ok: true, value: change.task } };
}

function onCreate(state: TaskActorState, command: TaskCreate, ctx: TaskActorContext): Decision {
  if (state.task !== null || state.creating !== null)
    return refused(state, "conflict", `task ${ctx.taskId} already exists`);
  if (command.task_id !== ctx.taskId) return refused(state, "bad_request", "task_id: must equal the room id");
  const summary = summaryOf(newTask(command, ctx.now));
  // A task that waits for others reserves nothing until it is ready (docs/scheduling.md).
  const waits = (command.after ?? []).length > 0;
  return {
    state: { ...state, creating: command },
    effects: [
      {
        kind: "ask-admission",
        ...(waits ? {} : { reserve: { attempt: 1 as const, tier: command.tier } }),
        summary,
        selector: command.agent_selector,
      },
    ],
  };
}

/**
 * The breaker and the name decide together: a task refused by either is never created or
 * dispatched, and whatever the other side already granted is given back.
 */
function onAdmitted(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "admission-answered" }>,
  ctx: TaskActorContext,
): Decision {
  const command = state.creating;
  if (command === null) return refused(state, "internal", "an admission arrived with no create waiting for it");
  const idle = { ...state, creating: null };
  if ((command.after ?? []).length > 0) {
    if (!event.claim.ok) return refused(idle, event.claim.error.code, event.claim.error.message);
    const waiting = withWaiting(newTask(command, ctx.now));
    return {
      state: { ...idle, task: waiting },
      effects: [
        {
          kind: "store-task",
          task: waiting,
          note: `waiting for ${(command.after ?? []).join(", ")} to succeed (priority ${waiting.priority ?? 5})`,
          attempt: 1,
        },
        { kind: "watch-tasks", ids: command.after ?? [] },
      ],
      reply: { ok: true, value: waiting },
    };
  }
  if (!event.reservation.ok || !event.claim.ok) {
    const effects: TaskEffect[] = [];
    if (event.reservation.ok) effects.push({ kind: "release-reservation", attempt: 1 });
    if (event.claim.ok) effects.push({ kind: "unlist-task", taskId: command.task_id });
    const error = !event.reservation.ok ? event.reservation.error : event.claim.ok ? null : event.claim.error;
    return refused(idle, error?.code ?? "internal", error?.message ?? "the task was not admitted", effects);
  }
  const start = startingTier(command.tier, new Set(event.served));
  const fresh = newTask({ ...command, tier: start.tier }, ctx.now);
  // Stored without `stored()`: the directory already lists it (admit), and hears again only if the tier moved.
  const task: TaskRecord = withWaiting(
    start.skipped.length === 0
      ? fresh
      : {
          ...fresh,
          skipped_tiers: start.skipped.map((tier) => ({ tier, reason: "no connected agent serves it", at: ctx.now })),
        },
  );
  const skipped = start.skipped.length > 0 ? ` (skipped ${start.skipped.join(", ")}: no agent serves them)` : "";
  // The directory listed it as queued at the requested tier; it hears again only if the tier moved.
  // The reservation follows the tier that runs: a skip up reserves again at the new tier first.
  const effects: TaskEffect[] = [
    { kind: "store-task", task, note: `queued at tier ${task.tier}${skipped}`, attempt: 1 },
    start.tier === command.tier
      ? { kind: "dispatch-attempt", attempt: 1 }
      : { kind: "reserve-attempt", attempt: 1, tier: start.tier },
  ];
  if (task.tier !== command.tier) effects.push({ kind: "index-task", summary: summaryOf(task) });
  return { state: { ...idle, task }, effects, reply: { ok: true, value: task } };
}

/** Whether the ladder may move after this exit (so the room must first ask which tiers are served). */
export function exitMayClimb(task: TaskRecord, exit: AttemptExit): boolean {
  // A lost attempt is retried at its own tier (onStopped), never up the ladder.
  if (exit.failure_class === "agent_lost") return false;
  const succeeded = exit.failure_class === undefined && exit.exit_code === 0 && exit.error === undefined;
  return !succeeded || task.attempts.some((a) => a.role === "consensus");
}

function onExit(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "attempt-exited" }>,
  ctx: TaskActorContext,
): Decision {
  const { exit, connectionId } = event;
  if (state.task === null) return { state, effects: [] };
  if (exit.failure_class === "agent_lost") return onStopped(state, event, ctx);
  const finished = finishAttempt(state.task, event.agent, exit, ctx.now);
  if (!finished.ok)
    return {
      state,
      effects: [
        { kind: "send-to-agent", connectionId, message: { type: "error", ...finished.error, in_reply_to: exit.type } },
      ],
    };
  // The exit and its next step are stored as one change: nobody sees a task "failed" that is about to climb.
  const plan = planNext(finished.value, new Set(event.served), ctx.config, ctx.now);
  const attempt = attemptOf(finished.value, exit.attempt);
  const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.exit_code ?? "none"}`;
  const missing = event.missingLines > 0 ? `; ${event.missingLines} output lines never arrived` : "";
  const fresh =
    attempt?.resume_refused === undefined
      ? ""
      : `; the CLI refused to resume attempt ${attempt.resume_refused}'s session, so it ran fresh with the full prompt`;
  const note = `attempt ${exit.attempt} ${how} after ${(exit.duration_ms / 1000).toFixed(1)}s: ${attempt?.status}${attempt?.failure_class ? ` (${attempt.failure_class})` : ""}${missing}${fresh}`;
  const change = stored(
    state.task,
    plan.kind === "none" ? finished.value : plan.task,
    plan.kind === "none" ? note : `${note}; ${plan.note}`,
    exit.attempt,
  );
  const effects: TaskEffect[] = [
    ...change.effects,
    {
      kind: "send-to-agent",
      connectionId,
      message: { type: "attempt.closed", attempt: exit.attempt, status: attempt?.status ?? "failed" },
    },
    { kind: "unbind-attempt", attempt: exit.attempt },
  ];
  if (attempt !== undefined) effects.push({ kind: "settle-attempt", attempt });
  effects.push(...reservations(plan));
  return { state: { ...state, task: change.task }, effects };
}

/**
 * A stopping agent gives its attempt up: the same loss the watchdog would find, with its one retry.
 * The agent hears how the attempt closed: failed when the loss was taken, else as the task has it.
 */
function onStopped(
  state: TaskActorState,
  { exit, agent, connectionId }: Extract<TaskEvent, { type: "attempt-exited" }>,
  ctx: TaskActorContext,
): Decision {
  const lost = onLost(
    state,
    { type: "agent-lost", attempt: exit.attempt, agent, reason: exit.error?.message ?? `agent ${agent} stopped` },
    ctx,
  );
  const status =
    lost.reply?.ok === true
      ? "failed"
      : ((state.task === null ? undefined : attemptOf(state.task, exit.attempt)?.status) ?? "failed");
  const { reply: _reply, ...decision } = lost;
  return {
    ...decision,
    effects: [
      ...decision.effects,
      { kind: "send-to-agent", connectionId, message: { type: "attempt.closed", attempt: exit.attempt, status } },
    ],
  };
}

/** For a retry that cannot continue an earlier CLI session, a log line saying why (the agent says its own reasons). */
function freshNotes(task: TaskRecord, attempts: readonly number[]): TaskEffect[] {
  return attempts.flatMap((n) => {
    const attempt = attemptOf(task, n);
    const why = attempt === undefined ? undefined : resumeOf(task, attempt).why;
    return why === undefined
      ? []
      : [
          {
            kind: "log-note" as const,
            text: `[mesh] attempt ${n} starts fresh, not resuming a session: ${why}`,
            attempt: n,
          },
        ];
  });
}

function reservations(plan: Plan): TaskEffect[] {
  if (plan.kind !== "dispatch") return [];
  return plan.attempts.flatMap((n) => {
    const attempt = attemptOf(plan.task, n);
    return attempt === undefined ? [] : [{ kind: "reserve-attempt" as const, attempt: n, tier: attempt.tier }];
  });
}

function onLost(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "agent-lost" }>,
  ctx: TaskActorContext,
): Decision {
  if (state.task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  const lost = loseAttempt(state.task, event.attempt, event.agent, event.reason, ctx.now);
  if (!lost.ok) return refused(state, lost.error.code, lost.error.message);
  const retry = lost.retry === undefined ? "" : `; retrying at tier ${lost.retry.tier} on another agent`;
  const change = stored(
    state.task,
    lost.value,
    `attempt ${event.attempt} lost: ${event.reason}${retry}`,
    event.attempt,
  );
  const effects: TaskEffect[] = [
    { kind: "unbind-attempt", attempt: event.attempt, close: "the mesh gave this attempt up" },
    ...change.effects,
  ];
  const given = attemptOf(lost.value, event.attempt);
  if (given !== undefined) effects.push({ kind: "settle-attempt", attempt: given });
  if (lost.retry !== undefined)
    effects.push(...freshNotes(lost.value, [lost.retry.n]), {
      kind: "reserve-attempt",
      attempt: lost.retry.n,
      tier: lost.retry.tier,
    });
  return { state: { ...state, task: change.task }, effects, reply: { ok: true, value: change.task } };
}

/**
 * A reserved attempt is dispatched; a refused one is cancelled, and the task fails with `budget_halted` unless others
 * run.
 */
function onReserved(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "reservation-answered" }>,
  ctx: TaskActorContext,
): Decision {
  const task = state.task;
  // Judged on the task as it is now: other attempts may have moved while the budget answered.
  if (task === null || attemptOf(task, event.attempt)?.status !== "dispatched")
    return { state, effects: event.result.ok ? [{ kind: "release-reservation", attempt: event.attempt }] : [] };
  if (event.result.ok) return { state, effects: [{ kind: "dispatch-attempt", attempt: event.attempt }] };
  const attempts = task.attempts.map((a) =>
    a.n === event.attempt
      ? { ...a, status: "cancelled" as const, failure_class: "cancelled" as const, ended_at: ctx.now }
      : a,
  );
  const othersOpen = attempts.some(isOpenAttempt);
  const message = event.result.error.message;
  const halted: TaskRecord = {
    ...task,
    attempts,
    ...(othersOpen ? {} : { status: "failed" as const, error: { code: "budget_halted" as const, message } }),
    updated_at: ctx.now,
  };
  const change = stored(task, halted, `attempt ${event.attempt} not started: ${message}`, event.attempt);
  return { state: { ...state, task: change.task }, effects: change.effects };
}

function onCancel(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "cancel-requested" }>,
  ctx: TaskActorContext,
): Decision {
  if (state.task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  const reason = event.reason ?? "cancelled by the orchestrator";
  const open = state.task.attempts.filter(isOpenAttempt);
  const cancelled = cancelTask(state.task, reason, ctx.now);
  if (!cancelled.ok) return refused(state, cancelled.error.code, cancelled.error.message);
  const change = stored(state.task, cancelled.value, `cancelled: ${event.reason ?? "by the orchestrator"}`);
  const effects = change.effects;
  for (const attempt of open) {
    if (attempt.status === "running" && event.held.includes(attempt.n)) {
      // It settles at its real cost when its exit arrives.
      effects.push({ kind: "stop-attempt", attempt: attempt.n, reason: event.reason ?? "task cancelled" });
    } else {
      // It never reached an agent, or its agent is not connected now (its hello will be refused and
      // it stops the child without an exit): it ends here, at the cost known so far.
      const ended = attemptOf(cancelled.value, attempt.n);
      if (ended !== undefined) effects.push({ kind: "settle-attempt", attempt: ended });
    }
  }
  if (open.some((a) => a.status === "dispatched")) effects.push({ kind: "withdraw-requests" });
  return { state: { ...state, task: change.task }, effects, reply: { ok: true, value: change.task } };
}

function onResolve(state: TaskActorState, command: ResolveDecision, ctx: TaskActorContext): Decision {
  if (state.task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  const retryTier = command.executor === undefined ? null : resolveExecutorTier(command.executor);
  if (command.executor !== undefined && retryTier === null)
    return refused(state, "bad_request", `executor: '${command.executor}' is neither a tier nor a CLI name`);
  const resolved = resolveTask(state.task, command, retryTier, ctx.now);
  if (!resolved.ok) return refused(state, resolved.error.code, resolved.error.message);
  const plan = resolved.value;
  if (plan.kind === "none") return { state, effects: [], reply: { ok: true, value: state.task } };
  const change = stored(state.task, plan.task, plan.note);
  return {
    state: { ...state, task: change.task },
    effects: [
      ...change.effects,
      ...freshNotes(plan.task, plan.kind === "dispatch" ? plan.attempts : []),
      ...reservations(plan),
    ],
    reply: { ok: true, value: change.task },
  };
}

/** Merging needs a succeeded task (or a named attempt) whose attempt left a commit on a branch of its own. */
function onApply(state: TaskActorState, requested: number | undefined, ctx: TaskActorContext): Decision {
  const task = state.task;
  if (task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  const n = requested ?? task.result?.attempt;
  if (n === undefined)
    return refused(
      state,
      "conflict",
      `task ${task.task_id} is ${task.status}: nothing to apply yet; apply a succeeded task, or name an attempt`,
    );
  const attempt = attemptOf(task, n);
  if (attempt === undefined) return refused(state, "not_found", `task ${task.task_id} has no attempt ${n}`);
  if (task.applied !== undefined) {
    return {
      state,
      effects: [
        {
          kind: "log-note",
          text: `[mesh] apply: already applied (checkout at ${task.applied.commit.slice(0, 12)}); nothing to do`,
          attempt: n,
        },
      ],
      reply: { ok: true, value: task },
    };
  }
  if (
    attempt.commit === undefined ||
    attempt.branch === undefined ||
    attempt.base === undefined ||
    attempt.checkout === undefined ||
    attempt.agent === null
  ) {
    const why =
      attempt.isolation === "none"
        ? "it ran in place (no git repository)"
        : attempt.diff_stat?.files === 0
          ? "it changed nothing"
          : `it has no commit (${attempt.status})`;
    return refused(state, "conflict", `attempt ${n} has nothing to apply: ${why}`);
  }
  const { repo, branch: target } = attempt.checkout;
  // A repo task merges into its base branch on the remote, from the agent's mirror (`repo` here; docs/delivery.md).
  const remote = task.repo === undefined ? {} : { remote: task.repo };
  const request: ApplyRequest = {
    type: "apply.request",
    agent: attempt.agent,
    task_id: task.task_id,
    attempt: n,
    repo,
    branch: attempt.branch,
    ...(target === undefined ? {} : { target_branch: target }),
    base: attempt.base,
    commit: attempt.commit,
    ...remote,
  };
  return { state, effects: [{ kind: "ask-apply", request }] };
}

function onApplied(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "apply-answered" }>,
  ctx: TaskActorContext,
): Decision {
  const task = state.task;
  if (task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  if (!event.outcome.ok)
    return refused(state, event.outcome.error.code, event.outcome.error.message, [
      { kind: "log-note", text: `[mesh] apply refused: ${event.outcome.error.message}`, attempt: event.attempt },
    ]);
  const outcome = event.outcome.value;
  if (!outcome.ok) {
    // The agent's message already names the files (up to 20).
    return refused(state, outcome.code, outcome.message, [
      { kind: "log-note", text: `[mesh] apply refused (${outcome.code}): ${outcome.message}`, attempt: event.attempt },
    ]);
  }
  const applied: TaskRecord = { ...task, applied: { commit: outcome.commit, at: ctx.now }, updated_at: ctx.now };
  const into =
    task.repo === undefined
      ? "the checkout"
      : `${task.attempts.find((a) => a.n === event.attempt)?.checkout?.branch ?? "the default branch"} on the remote`;
  const how = outcome.already_applied
    ? `was already in ${into}`
    : outcome.fast_forward
      ? `fast-forwarded ${into}`
      : `merged into ${into} with a merge commit`;
  return {
    state: { ...state, task: applied },
    effects: [
      {
        kind: "store-task",
        task: applied,
        note: `attempt ${event.attempt} ${how} (now at ${outcome.commit.slice(0, 12)})`,
        attempt: event.attempt,
      },
    ],
    reply: { ok: true, value: applied },
  };
}
