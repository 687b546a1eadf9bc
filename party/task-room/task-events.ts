import { FINISHED_TASK_STATUSES, type BudgetGrant, type AgentSelector, type ApplyOutcome, type ApplyRequest, type Attempt, type AttemptExit, type AttemptHello, type DeliveryOutcome, type DeliveryRequest, type ErrorBody, type NotificationEvent, type ExecutorTier, type ResolveDecision, type Result, type TaskCreate, type TaskDependency, type TaskRecord, type TaskSummary, type TaskToAgent } from "../../protocol/index.ts";
import type { EscalationConfig } from "./escalation.ts";
import { withWaiting } from "./task-schedule.ts";
import { deliveryRequestOf } from "./task-delivery.ts";
import { taskNotices } from "./task-notices.ts";

// The task actor's vocabulary (task-actor.ts decides): its state, events, effects and the few steps
// every decision shares (storing a change, summarising the task, telling dependents).

/**
 * The task actor: the one owner of a task's lifecycle. A pure function of the state and
 * one event that returns the next state and the effects the room carries out; the room's hooks only
 * parse, call `decide`, and perform effects. Effects that ask another room something (admit,
 * reserve) come back as events. Time comes in with each event, so tests run on a fake clock.
 */
export type TaskActorState = {
  task: TaskRecord | null;
  /** A create waiting for its admission (budget, name, served tiers): a second create is refused meanwhile. */
  creating: TaskCreate | null;
};

export type TaskEvent =
  /** The edge forwards the orchestrator's create (task.create). */
  | { type: "create"; command: TaskCreate }
  /** What the budget, the directory and the registry answered to the admission, asked at once. */
  | { type: "admitted"; reservation: Result<unknown>; claim: Result<unknown>; served: readonly ExecutorTier[] }
  /** An agent says it runs an attempt (attempt.hello), on connection `connectionId`. */
  | { type: "hello"; hello: AttemptHello; connectionId: string }
  /** The budget answered the start of the attempt that `hello` asked to run (start-gate.ts). */
  | { type: "started"; hello: AttemptHello; connectionId: string; grant: Result<BudgetGrant> }
  /** The budget's breaker halted while this attempt waited for an agent (budget.halted). */
  | { type: "halted"; attempt: number; message: string }
  /** The holder of an attempt reports its end; `served` is read first when the ladder may climb. */
  | { type: "exit"; exit: AttemptExit; agent: string; connectionId: string; missingLines: number; served: readonly ExecutorTier[] }
  /** The registry (or a stopping agent) gave the attempt's agent up. */
  | { type: "lost"; attempt: number; agent: string; reason: string }
  /** The budget answered the reservation of a new attempt. */
  | { type: "reserved"; attempt: number; result: Result<unknown> }
  /** The orchestrator cancels; `held` are attempts whose agent is connected to this room now. */
  | { type: "cancel"; reason?: string; held: readonly number[] }
  /** A person's decision at the human step. */
  | { type: "resolve"; command: ResolveDecision }
  /** The first request after a restart: attempts still waiting for an agent are asked for again. */
  | { type: "resume" }
  /** Merge the result (or attempt `attempt`) into the user's checkout (`apply`). */
  | { type: "apply"; attempt?: number }
  /** The agent's answer to the merge; null when the registry could not reach it. */
  | { type: "applied"; attempt: number; outcome: Result<ApplyOutcome> }
  /** The agent's answer to a delivery (docs/delivery.md); not ok when the registry could not be asked. */
  | { type: "delivered"; attempt: number; mode: "push" | "pr"; outcome: Result<DeliveryOutcome> }
  /** A task that waits for this one asks to be told when it ends (task.watch). */
  | { type: "watch"; dependent: string }
  /** A task this one is after ended, or is as a watch's answer says. */
  | { type: "dependency"; news: TaskDependency }
  /** Every prerequisite succeeded, and these tiers are served now: the first attempt starts. */
  | { type: "begin"; served: readonly ExecutorTier[] }
  /** The registry gave up finding an agent for the attempt: none within its queue timeout (`no_agent`), or its pinned agent cannot make worktrees (`disk_full`). */
  | { type: "unserved"; attempt: number; message: string; failureClass?: "no_agent" | "disk_full" }
  /** The holder of a running attempt says which CLI session it runs (kept for a resume after a loss). */
  | { type: "session"; attempt: number; sessionId: string };

export type TaskEffect =
  /** Ask at once: reserve attempt 1's estimate (not for a task that waits for others), claim the name (list the task), and which tiers are served. */
  | { kind: "admit"; reserve?: { attempt: 1; tier: ExecutorTier }; summary: TaskSummary; selector: AgentSelector }
  /** The admission failed after the budget reserved: give the reservation back. */
  | { kind: "release"; attempt: number }
  /** The admission failed after the directory listed the task: take it off (and free its name). */
  | { kind: "unlist"; taskId: string }
  /** Store the task (with a `[mesh]` note in its log), show it to viewers, wake waiters. */
  | { kind: "store"; task: TaskRecord; note: string; attempt: number }
  /** The task's summary changed: tell the directory. */
  | { kind: "index"; summary: TaskSummary }
  /** Reserve a new attempt's estimate; the answer comes back as `reserved`. */
  | { kind: "reserve"; attempt: number; tier: ExecutorTier }
  /** Ask the budget to let this attempt start now (its agent said hello); the answer comes back as `started`. */
  | { kind: "start"; hello: AttemptHello; tier: ExecutorTier; connectionId: string }
  /** Ask the registry for an agent for this attempt. */
  | { kind: "dispatch"; attempt: number }
  /** The task needs no agent any more: withdraw its pending requests. */
  | { kind: "withdraw" }
  /** An ended attempt's real cost, for the budget and its ledger. */
  | { kind: "settle"; attempt: Attempt }
  /** Bind a connection to the attempt it runs (closing an older connection of it). */
  | { kind: "hold"; attempt: number; connectionId: string; agent: string }
  /** Unbind an attempt; with `close`, close its connection with that reason. */
  | { kind: "unhold"; attempt: number; close?: string }
  /** A message to one agent connection; with `close`, the connection is then closed as not assigned. */
  | { kind: "send"; connectionId: string; message: TaskToAgent; close?: "unsupported_version" | "not_assigned" }
  /** Tell the agent running `attempt` to stop it. */
  | { kind: "cancel-attempt"; attempt: number; reason: string }
  /** A `[mesh]` line in the task's log, with no change of the task. */
  | { kind: "note"; text: string; attempt: number }
  /** Ask the attempt's agent (through the registry) to merge its branch; the answer comes back as `applied`. */
  | { kind: "apply"; request: ApplyRequest }
  /** Ask the result's agent (through the registry) to push it, or open its pull request; the answer comes back as `delivered`. */
  | { kind: "deliver"; request: DeliveryRequest }
  /** The task ended: the agents that ran it may remove its worktrees, all but the winner's. */
  | { kind: "ended"; agents: string[]; keep?: number }
  /** Ask each of these tasks to tell this one when it ends; their answers come back as `dependency`. */
  | { kind: "watch"; ids: readonly string[] }
  /** Tell the tasks waiting for this one that it ended. */
  | { kind: "notify"; dependents: readonly string[]; news: TaskDependency }
  /** Ask which tiers are served, then start (`begin`). */
  | { kind: "begin" }
  /** Hand webhook events to the notification outbox, without waiting (docs/notifications.md). */
  | { kind: "announce"; events: NotificationEvent[] }
  /** Hand a finished task's spans to the trace room, without waiting (docs/traces.md). */
  | { kind: "export-spans"; task: TaskRecord };

/** What a decision returns: the next state, the effects in order, and the reply to a request (if the event was one). */
export type Decision = { state: TaskActorState; effects: TaskEffect[]; reply?: Result<TaskRecord> };

export type TaskActorContext = { now: number; taskId: string; config: EscalationConfig };

export const emptyTaskActor = (task: TaskRecord | null = null): TaskActorState => ({ task, creating: null });

export const refused = (state: TaskActorState, code: ErrorBody["code"], message: string, effects: TaskEffect[] = []): Decision => ({ state, effects, reply: { ok: false, error: { code, message } } });

export function summaryOf(task: TaskRecord): TaskSummary {
  const agent = [...task.attempts].reverse().find((attempt) => attempt.agent !== null)?.agent ?? undefined;
  return {
    task_id: task.task_id,
    ...(task.name === undefined ? {} : { name: task.name }),
    status: task.status,
    tier: task.tier,
    instruction: task.instruction.slice(0, 200),
    ...(task.priority === undefined ? {} : { priority: task.priority }),
    ...(task.kind === undefined ? {} : { kind: task.kind }),
    ...(task.waiting === undefined ? {} : { waiting: task.waiting }),
    ...(agent === undefined ? {} : { agent }),
    cost_usd: task.cost_usd,
    created_at: task.created_at,
    updated_at: task.updated_at,
  };
}

/** Stores `task` and, when its summary changed, tells the directory: every change of the task goes through here. */
export function stored(previous: TaskRecord | null, changed: TaskRecord, note: string, attempt = Math.max(1, changed.attempts.length)): TaskEffect[] {
  // `waiting` is derived (task-schedule.ts): the stored copy, the state (decide) and the directory agree.
  const task = withWaiting(changed);
  const effects: TaskEffect[] = [{ kind: "store", task, note, attempt }];
  // The directory hears of every change its list shows (status, tier, waiting, agent, cost), not of each stored line.
  const summary = summaryOf(task);
  if (previous === null || !sameListing(summaryOf(previous), summary)) effects.push({ kind: "index", summary });
  const ended = FINISHED_TASK_STATUSES.includes(task.status) && (previous === null || !FINISHED_TASK_STATUSES.includes(previous.status));
  // A task with neither cwd nor repo ran in a scratch directory of each agent's, removed at its end too (docs/repositories.md).
  const scratch = task.cwd === undefined && task.repo === undefined;
  const agents = [...new Set(task.attempts.filter((a) => (scratch || a.isolation === "worktree") && a.agent !== null).map((a) => a.agent as string))];
  if (ended && agents.length > 0) effects.push({ kind: "ended", agents, ...(task.result === undefined ? {} : { keep: task.result.attempt }) });
  // A repo task that succeeded with `deliver` push or pr asks its result's agent to deliver (docs/delivery.md).
  const delivery = ended ? deliveryRequestOf(task) : undefined;
  if (delivery !== undefined) effects.push({ kind: "deliver", request: delivery });
  if (ended && (task.dependents ?? []).length > 0) effects.push({ kind: "notify", dependents: task.dependents ?? [], news: newsOf(task) });
  const notices = taskNotices(previous, task);
  if (notices.length > 0) effects.push({ kind: "announce", events: notices });
  if (ended && task.trace_id !== undefined) effects.push({ kind: "export-spans", task });
  return effects;
}

function sameListing(a: TaskSummary, b: TaskSummary): boolean {
  return JSON.stringify({ ...a, updated_at: 0 }) === JSON.stringify({ ...b, updated_at: 0 });
}

/** How a task's end reads to the tasks waiting for it. */
export function newsOf(task: TaskRecord): TaskDependency {
  return { type: "task.dependency", task_id: task.task_id, ...(task.name === undefined ? {} : { name: task.name }), status: task.status, ...(task.error === undefined ? {} : { error: task.error }) };
}

