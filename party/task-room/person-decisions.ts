import { type ApplyRequest, type ResolveDecision, resolveExecutorTier, type TaskRecord } from "../../protocol/index.ts";
import { freshNotes, reservations } from "./attempt-decisions.ts";
import { resolveTask } from "./escalation.ts";
import {
  type Decision,
  refused,
  stored,
  type TaskActorContext,
  type TaskActorState,
  type TaskEvent,
} from "./task-events.ts";
import { attemptOf, cancelTask, isOpenAttempt } from "./task-state.ts";

// The task actor's decisions on what the orchestrator (a person) asks of a task: cancel it, resolve a task waiting
// for a person, apply an attempt's commit (docs/task-room.md).

export function onCancel(
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

export function onResolve(state: TaskActorState, command: ResolveDecision, ctx: TaskActorContext): Decision {
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
export function onApply(state: TaskActorState, requested: number | undefined, ctx: TaskActorContext): Decision {
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

export function onApplied(
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
