import {
  type AgentSelector,
  type ApplyOutcome,
  type ApplyRequest,
  type Attempt,
  type AttemptExit,
  type AttemptHello,
  type BudgetGrant,
  type DeliveryOutcome,
  type DeliveryRequest,
  type ErrorBody,
  type ExecutorTier,
  FINISHED_TASK_STATUSES,
  type NotificationEvent,
  type ResolveDecision,
  type Result,
  type TaskCreate,
  type TaskDependency,
  type TaskRecord,
  type TaskSummary,
  type TaskToAgent,
} from "../../protocol/index.ts";
import type { EscalationConfig } from "./escalation.ts";
import { deliveryRequestOf } from "./task-delivery.ts";
import { taskNotices } from "./task-notices.ts";
import { withWaiting } from "./task-schedule.ts";

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
  | { type: "create-requested"; command: TaskCreate }
  /** What the budget, the directory and the registry answered to the admission, asked at once. */
  | {
      type: "admission-answered";
      reservation: Result<unknown>;
      claim: Result<unknown>;
      served: readonly ExecutorTier[];
    }
  /**
   * An agent says it runs an attempt (attempt.hello), on connection `connectionId`; the room has stored `linesStored`
   * lines of it.
   */
  | { type: "hello-received"; hello: AttemptHello; connectionId: string; linesStored: number }
  /**
   * The budget answered the start of the attempt that `hello` asked to run (start-gate.ts); `linesStored` as for
   * `hello`, counted as the answer came.
   */
  | {
      type: "start-answered";
      hello: AttemptHello;
      connectionId: string;
      grant: Result<BudgetGrant>;
      linesStored: number;
    }
  /** The budget's breaker halted while this attempt waited for an agent (budget.halted). */
  | { type: "budget-halted"; attempt: number; message: string }
  /** The holder of an attempt reports its end; `served` is read first when the ladder may climb. */
  | {
      type: "attempt-exited";
      exit: AttemptExit;
      agent: string;
      connectionId: string;
      missingLines: number;
      served: readonly ExecutorTier[];
    }
  /** The registry (or a stopping agent) gave the attempt's agent up. */
  | { type: "agent-lost"; attempt: number; agent: string; reason: string }
  /** The budget answered the reservation of a new attempt. */
  | { type: "reservation-answered"; attempt: number; result: Result<unknown> }
  /** The orchestrator cancels; `held` are attempts whose agent is connected to this room now. */
  | { type: "cancel-requested"; reason?: string; held: readonly number[] }
  /** A person's decision at the human step. */
  | { type: "person-decided"; command: ResolveDecision }
  /** The first request after a restart: attempts still waiting for an agent are asked for again. */
  | { type: "room-resumed" }
  /** Merge the result (or attempt `attempt`) into the user's checkout (`apply`). */
  | { type: "apply-requested"; attempt?: number }
  /** The agent's answer to the merge; null when the registry could not reach it. */
  | { type: "apply-answered"; attempt: number; outcome: Result<ApplyOutcome> }
  /** The agent's answer to a delivery (docs/delivery.md); not ok when the registry could not be asked. */
  | { type: "delivery-answered"; attempt: number; mode: "push" | "pr"; outcome: Result<DeliveryOutcome> }
  /** A task that waits for this one asks to be told when it ends (task.watch). */
  | { type: "watch-requested"; dependent: string }
  /** A task this one is after ended, or is as a watch's answer says. */
  | { type: "dependency-heard"; news: TaskDependency }
  /** Every prerequisite succeeded, and these tiers are served now: the first attempt starts. */
  | { type: "served-tiers-read"; served: readonly ExecutorTier[] }
  /**
   * The registry gave up finding an agent for the attempt: none within its queue timeout (`no_agent`), or its pinned
   * agent cannot make worktrees (`disk_full`).
   */
  | { type: "attempt-unserved"; attempt: number; message: string; failureClass?: "no_agent" | "disk_full" }
  /** The holder of a running attempt says which CLI session it runs (kept for a resume after a loss). */
  | { type: "session-reported"; attempt: number; sessionId: string };

export type TaskEffect =
  /**
   * Ask at once: reserve attempt 1's estimate (not for a task that waits for others), claim the name (list the task),
   * and which tiers are served.
   */
  | {
      kind: "ask-admission";
      reserve?: { attempt: 1; tier: ExecutorTier };
      summary: TaskSummary;
      selector: AgentSelector;
    }
  /** The admission failed after the budget reserved: give the reservation back. */
  | { kind: "release-reservation"; attempt: number }
  /** The admission failed after the directory listed the task: take it off (and free its name). */
  | { kind: "unlist-task"; taskId: string }
  /** Store the task (with a `[mesh]` note in its log), show it to viewers, wake waiters. */
  | { kind: "store-task"; task: TaskRecord; note: string; attempt: number }
  /** The task's summary changed: tell the directory. */
  | { kind: "index-task"; summary: TaskSummary }
  /** Reserve a new attempt's estimate; the answer comes back as `reserved`. */
  | { kind: "reserve-attempt"; attempt: number; tier: ExecutorTier }
  /** Ask the budget to let this attempt start now (its agent said hello); the answer comes back as `started`. */
  | { kind: "ask-start"; hello: AttemptHello; tier: ExecutorTier; connectionId: string }
  /** Ask the registry for an agent for this attempt. */
  | { kind: "dispatch-attempt"; attempt: number }
  /** The task needs no agent any more: withdraw its pending requests. */
  | { kind: "withdraw-requests" }
  /** An ended attempt's real cost, for the budget and its ledger. */
  | { kind: "settle-attempt"; attempt: Attempt }
  /** Bind a connection to the attempt it runs (closing an older connection of it). */
  | { kind: "bind-attempt"; attempt: number; connectionId: string; agent: string }
  /** Unbind an attempt; with `close`, close its connection with that reason. */
  | { kind: "unbind-attempt"; attempt: number; close?: string }
  /** A message to one agent connection; with `close`, the connection is then closed as not assigned. */
  | {
      kind: "send-to-agent";
      connectionId: string;
      message: TaskToAgent;
      close?: "unsupported_version" | "not_assigned";
    }
  /** Tell the agent running `attempt` to stop it. */
  | { kind: "stop-attempt"; attempt: number; reason: string }
  /** A `[mesh]` line in the task's log, with no change of the task. */
  | { kind: "log-note"; text: string; attempt: number }
  /** Ask the attempt's agent (through the registry) to merge its branch; the answer comes back as `applied`. */
  | { kind: "ask-apply"; request: ApplyRequest }
  /**
   * Ask the result's agent (through the registry) to push it, or open its pull request; the answer comes back as
   * `delivered`.
   */
  | { kind: "ask-delivery"; request: DeliveryRequest }
  /** The task ended: the agents that ran it may remove its worktrees, all but the winner's. */
  | { kind: "free-worktrees"; agents: string[]; keep?: number }
  /** Ask each of these tasks to tell this one when it ends; their answers come back as `dependency`. */
  | { kind: "watch-tasks"; ids: readonly string[] }
  /** Tell the tasks waiting for this one that it ended. */
  | { kind: "notify-dependents"; dependents: readonly string[]; news: TaskDependency }
  /** Ask which tiers are served, then start (`begin`). */
  | { kind: "read-served-tiers" }
  /** Hand webhook events to the notification outbox, without waiting (docs/notifications.md). */
  | { kind: "announce-events"; events: NotificationEvent[] }
  /** Hand a finished task's spans to the trace room, without waiting (docs/traces.md). */
  | { kind: "export-spans"; task: TaskRecord };

/** What a decision returns: the next state, the effects in order, and the reply to a request (if the event was one). */
export type Decision = { state: TaskActorState; effects: TaskEffect[]; reply?: Result<TaskRecord> };

export type TaskActorContext = { now: number; taskId: string; config: EscalationConfig };

export const emptyTaskActor = (task: TaskRecord | null = null): TaskActorState => ({ task, creating: null });

export const refused = (
  state: TaskActorState,
  code: ErrorBody["code"],
  message: string,
  effects: TaskEffect[] = [],
): Decision => ({ state, effects, reply: { ok: false, error: { code, message } } });

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

/** A change of the task: the task as stored (its `waiting` derived) and the effects that store and announce it. */
export type Change = { task: TaskRecord; effects: TaskEffect[] };

/**
 * Stores `task` and, when its summary changed, tells the directory: every change of the task goes
 * through here. `waiting` is derived here, once (task-schedule.ts), so the task a decision keeps in
 * its state and replies with is the one stored and listed.
 */
export function stored(
  previous: TaskRecord | null,
  changed: TaskRecord,
  note: string,
  attempt = Math.max(1, changed.attempts.length),
): Change {
  const task = withWaiting(changed);
  const effects: TaskEffect[] = [{ kind: "store-task", task, note, attempt }];
  // The directory hears of every change its list shows (status, tier, waiting, agent, cost), not of each stored line.
  const summary = summaryOf(task);
  if (previous === null || !sameListing(summaryOf(previous), summary)) effects.push({ kind: "index-task", summary });
  const ended =
    FINISHED_TASK_STATUSES.includes(task.status) &&
    (previous === null || !FINISHED_TASK_STATUSES.includes(previous.status));
  // A task with neither cwd nor repo ran in a scratch directory of each agent's, removed at its end too
  // (docs/repositories.md).
  const scratch = task.cwd === undefined && task.repo === undefined;
  const agents = [
    ...new Set(
      task.attempts
        .filter((a) => (scratch || a.isolation === "worktree") && a.agent !== null)
        .map((a) => a.agent as string),
    ),
  ];
  if (ended && agents.length > 0)
    effects.push({
      kind: "free-worktrees",
      agents,
      ...(task.result === undefined ? {} : { keep: task.result.attempt }),
    });
  // A repo task that succeeded with `deliver` push or pr asks its result's agent to deliver (docs/delivery.md).
  const delivery = ended ? deliveryRequestOf(task) : undefined;
  if (delivery !== undefined) effects.push({ kind: "ask-delivery", request: delivery });
  if (ended && (task.dependents ?? []).length > 0)
    effects.push({ kind: "notify-dependents", dependents: task.dependents ?? [], news: newsOf(task) });
  const notices = taskNotices(previous, task);
  if (notices.length > 0) effects.push({ kind: "announce-events", events: notices });
  if (ended && task.trace_id !== undefined) effects.push({ kind: "export-spans", task });
  return { task, effects };
}

function sameListing(a: TaskSummary, b: TaskSummary): boolean {
  return JSON.stringify({ ...a, updated_at: 0 }) === JSON.stringify({ ...b, updated_at: 0 });
}

/** How a task's end reads to the tasks waiting for it. */
export function newsOf(task: TaskRecord): TaskDependency {
  return {
    type: "task.dependency",
    task_id: task.task_id,
    ...(task.name === undefined ? {} : { name: task.name }),
    status: task.status,
    ...(task.error === undefined ? {} : { error: task.error }),
  };
}
