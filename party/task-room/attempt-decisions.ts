import type { AttemptExit, TaskRecord } from "../../protocol/index.ts";
import { type Plan, planNext } from "./escalation.ts";
import {
  type Decision,
  refused,
  stored,
  type TaskActorContext,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "./task-events.ts";
import { resumeOf } from "./task-schedule.ts";
import { attemptOf, finishAttempt, isOpenAttempt, loseAttempt } from "./task-state.ts";

// The task actor's decisions on an attempt's course: its reservation, its exit, its loss, and the attempts the ladder
// asks for next (docs/task-room.md, docs/escalation.md).

/** Whether the ladder may move after this exit (so the room must first ask which tiers are served). */
export function exitMayClimb(task: TaskRecord, exit: AttemptExit): boolean {
  // A lost attempt is retried at its own tier (onStopped), never up the ladder.
  if (exit.failure_class === "agent_lost") return false;
  const succeeded = exit.failure_class === undefined && exit.exit_code === 0 && exit.error === undefined;
  return !succeeded || task.attempts.some((a) => a.role === "consensus");
}

export function onExit(
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
export function freshNotes(task: TaskRecord, attempts: readonly number[]): TaskEffect[] {
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

export function reservations(plan: Plan): TaskEffect[] {
  if (plan.kind !== "dispatch") return [];
  return plan.attempts.flatMap((n) => {
    const attempt = attemptOf(plan.task, n);
    return attempt === undefined ? [] : [{ kind: "reserve-attempt" as const, attempt: n, tier: attempt.tier }];
  });
}

export function onLost(
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
export function onReserved(
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
