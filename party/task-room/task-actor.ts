import { onAdmitted, onCreate, onDependency, onWatch } from "./admission-decisions.ts";
import { onExit, onLost, onReserved } from "./attempt-decisions.ts";
import { onApplied, onApply, onCancel, onResolve } from "./person-decisions.ts";
import { onHalted, onHello, onStarted } from "./start-gate.ts";
import { deliveredTask } from "./task-delivery.ts";
import {
  type Decision,
  refused,
  stored,
  type TaskActorContext,
  type TaskActorState,
  type TaskEvent,
} from "./task-events.ts";
import { beginTask, unservedAttempt, withSession } from "./task-schedule.ts";
import { attemptOf } from "./task-state.ts";

export { exitMayClimb } from "./attempt-decisions.ts";
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
 * The decisions live by what they decide on: a task's creation (admission-decisions.ts), an attempt's course
 * (attempt-decisions.ts), the orchestrator's requests (person-decisions.ts), an agent's start (start-gate.ts).
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
