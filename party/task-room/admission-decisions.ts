import { FINISHED_TASK_STATUSES, type TaskCreate, type TaskDependency, type TaskRecord } from "../../protocol/index.ts";
import { startingTier } from "./escalation.ts";
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
import { dependencyStep, withWaiting } from "./task-schedule.ts";
import { newTask } from "./task-state.ts";

// The task actor's decisions on a task's creation: admission by the budget and the directory, and the tasks it waits
// for or that wait for it (docs/task-room.md, docs/scheduling.md).

/**
 * A task waiting for this one asks to hear of its end: remembered; the answer is the task now (already over: the
 * dependent acts on it).
 */
export function onWatch(state: TaskActorState, dependent: string, ctx: TaskActorContext): Decision {
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

export function onDependency(state: TaskActorState, news: TaskDependency, ctx: TaskActorContext): Decision {
  const task = state.task;
  if (task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  const step = dependencyStep(task, news, ctx.now);
  if (step.kind === "none") return { state, effects: [], reply: { ok: true, value: task } };
  const change = stored(task, step.task, step.note, 1);
  if (step.kind === "ready") change.effects.push({ kind: "read-served-tiers" });
  return { state: { ...state, task: change.task }, effects: change.effects, reply: { ok: true, value: change.task } };
}

export function onCreate(state: TaskActorState, command: TaskCreate, ctx: TaskActorContext): Decision {
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
export function onAdmitted(
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
