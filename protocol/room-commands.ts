import { z } from "zod";
import { AgentRecord } from "./agent-record.ts";
import { ApplyOutcome, TaskApply, TaskAssign } from "./agent-wire.ts";
import { BudgetHalted } from "./budget.ts";
import { DeliveryRequest, TaskDelivered } from "./delivery.ts";
import { ExecutorTier } from "./ladder.ts";
import { AgentSelector, LogLine, TaskRecord, TaskRouting, TaskStatus, TaskWaiting } from "./task.ts";
import { CreateTaskRequest, MAX_AFTER, TaskId, TaskKind, TaskName, TaskPriority } from "./task-request.ts";
import { SpanId, TraceId } from "./trace-context.ts";

// Room ↔ room and edge → room requests (HTTP inside the mesh, same credential checks as outside).

/**
 * What `task.create` carries as `POST /api/tasks` took it: the request's own schemas (`.pick` on its shape, as the
 * request has a refinement).
 */
const AskedFields = z
  .object(CreateTaskRequest.shape)
  .pick({ acceptance: true, isolation: true, base_ref: true, repo: true, deliver: true, max_cost_usd: true });

/**
 * Edge → task room: create the task this room holds. The room owns the rest: the
 * budget's reservation, the name, the listing, the dispatch of its first attempt.
 */
export const TaskCreate = z.object({
  type: z.literal("task.create"),
  task_id: z.string(),
  name: TaskName.optional(),
  instruction: z.string(),
  cwd: z.string().optional(),
  tier: ExecutorTier,
  agent_selector: AgentSelector,
  ...AskedFields.shape,
  /**
   * Scheduling (docs/scheduling.md): priority, prerequisites (ids), queue timeout, kind and the routing that picked
   * `tier`.
   */
  priority: TaskPriority.optional(),
  after: z.array(TaskId).max(MAX_AFTER).optional(),
  queue_timeout_s: z.number().positive().optional(),
  kind: TaskKind.optional(),
  routing: TaskRouting.optional(),
  /** Also send task.succeeded / task.failed to the webhooks (docs/notifications.md). */
  notify: z.boolean().optional(),
  /**
   * The task's W3C trace (docs/traces.md): the creating request's trace id, or a new one, and the span that made the
   * call, when it said.
   */
  trace_id: TraceId.optional(),
  trace_parent: SpanId.optional(),
});
export type TaskCreate = z.infer<typeof TaskCreate>;

/** Edge → task room: cancel the task and stop its running attempt. */
export const TaskCancel = z.object({
  type: z.literal("task.cancel"),
  reason: z.string().max(500).optional(),
});
export type TaskCancel = z.infer<typeof TaskCancel>;

/** Registry → task room: the agent running this attempt stopped heartbeating; the attempt is lost. */
export const AttemptLost = z.object({
  type: z.literal("attempt.lost"),
  attempt: z.number().int().positive(),
  agent: z.string(),
  reason: z.string(),
});
export type AttemptLost = z.infer<typeof AttemptLost>;

/** A person's decision on a task awaiting one (`resolve`). */
export const ResolveDecision = z
  .object({
    decision: z.enum(["approve", "retry", "reject"]),
    /** For retry: what to do differently; for reject: why. */
    guidance: z.string().max(20_000).optional(),
    /** For retry: the tier (or CLI name) to retry at; default the last attempt's tier. */
    executor: z.string().min(1).optional(),
  })
  .strict();
export type ResolveDecision = z.infer<typeof ResolveDecision>;

export const TaskResolve = ResolveDecision.extend({ type: z.literal("task.resolve") });
export type TaskResolve = z.infer<typeof TaskResolve>;

/** Edge → task room: merge the result (or attempt `attempt`) into the user's checkout. */
export const TaskApplyCommand = z.object({
  type: z.literal("task.apply"),
  attempt: z.number().int().positive().optional(),
});
export type TaskApplyCommand = z.infer<typeof TaskApplyCommand>;

/** Dependent task room → prerequisite's room: tell me when you end (the answer is the task as it is now). */
export const TaskWatch = z.object({
  type: z.literal("task.watch"),
  dependent: TaskId,
});
export type TaskWatch = z.infer<typeof TaskWatch>;

/** Prerequisite's room → dependent room: a task it waits for ended (or, answering a watch, is already over). */
export const TaskDependency = z.object({
  type: z.literal("task.dependency"),
  task_id: TaskId,
  name: z.string().optional(),
  status: TaskStatus,
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type TaskDependency = z.infer<typeof TaskDependency>;

/**
 * Registry → task room: no online agent served the attempt's tier for its queue timeout (`no_agent`),
 * or the one agent it is pinned to cannot make its worktree now (`disk_full`, docs/faults.md); it
 * was taken off the queue.
 */
export const AttemptUnserved = z.object({
  type: z.literal("attempt.unserved"),
  attempt: z.number().int().positive(),
  /** Names the tier and what was online, or the agent and why it cannot take the attempt. */
  message: z.string(),
  /** The attempt's failure class; absent means `no_agent`. */
  failure_class: z.enum(["no_agent", "disk_full"]).optional(),
});
export type AttemptUnserved = z.infer<typeof AttemptUnserved>;

export const TaskCommand = z.discriminatedUnion("type", [
  TaskCreate,
  TaskCancel,
  AttemptLost,
  TaskResolve,
  TaskApplyCommand,
  TaskWatch,
  TaskDependency,
  AttemptUnserved,
  BudgetHalted,
  TaskDelivered,
]);
export type TaskCommand = z.infer<typeof TaskCommand>;

/**
 * Task room → registry: find an agent for this attempt (queued until one can take it). `assign` is
 * the very message the agent gets, so the registry forwards it and never copies its fields.
 */
export const DispatchRequest = z.object({
  type: z.literal("dispatch.request"),
  assign: TaskAssign,
  selector: AgentSelector,
  /** Agents that may not take it (a retry after one of them was lost). */
  exclude_agents: z.array(z.string()).optional(),
  /**
   * Capabilities the agent must have announced: never a worktree task to an agent without them
   * (docs/work-isolation.md).
   */
  needs: z.array(z.enum(["worktree"])).optional(),
  /** When the request was made (ms since epoch); within a priority, pending requests are served oldest first. */
  requested_at: z.number(),
  /** 0-9, higher served first (absent: 5). */
  priority: TaskPriority.optional(),
  /** The agent that holds the CLI session and worktree this attempt resumes: it takes the attempt when it can, now. */
  prefer_agent: z.string().optional(),
  /**
   * How long the attempt may wait while no online agent the selector allows serves its tier; then it fails as
   * `no_agent`.
   */
  queue_timeout_s: z.number().positive().optional(),
});
export type DispatchRequest = z.infer<typeof DispatchRequest>;

/** Task room → registry: the task no longer needs an agent (cancelled while queued). */
export const DispatchWithdraw = z.object({
  type: z.literal("dispatch.withdraw"),
  task_id: z.string(),
});
export type DispatchWithdraw = z.infer<typeof DispatchWithdraw>;

/** Task room → registry: ask `agent` to merge an attempt's branch (answered when the agent has). */
export const ApplyRequest = TaskApply.omit({ type: true, request_id: true }).extend({
  type: z.literal("apply.request"),
  agent: z.string(),
});
export type ApplyRequest = z.infer<typeof ApplyRequest>;

/** Task room → registry: the task ended; tell these agents, so they remove its worktrees (all but `keep`). */
export const TaskEndedNotice = z.object({
  type: z.literal("task.ended"),
  task_id: z.string(),
  agents: z.array(z.string()),
  keep: z.number().int().positive().optional(),
});
export type TaskEndedNotice = z.infer<typeof TaskEndedNotice>;

/** Edge → registry: refuse this agent from now on (`POST /api/agents/<name>/revoke`). */
export const AgentRevoke = z.object({ type: z.literal("agent.revoke"), name: z.string() });
export type AgentRevoke = z.infer<typeof AgentRevoke>;

/** Edge → registry: forget this agent, so its name can enroll again (`DELETE /api/agents/<name>`). */
export const AgentForget = z.object({ type: z.literal("agent.forget"), name: z.string() });
export type AgentForget = z.infer<typeof AgentForget>;

/**
 * Registry → edge: the answer to `agent.revoke` / `agent.forget`, with how many running attempts went back to be
 * retried elsewhere.
 */
export const AgentRevoked = z.object({
  name: z.string(),
  state: z.enum(["revoked", "forgotten"]),
  requeued: z.number().int().nonnegative(),
});
export type AgentRevoked = z.infer<typeof AgentRevoked>;

export const RegistryCommand = z.discriminatedUnion("type", [
  DispatchRequest,
  DispatchWithdraw,
  ApplyRequest,
  DeliveryRequest,
  TaskEndedNotice,
  AgentRevoke,
  AgentForget,
]);
export type RegistryCommand = z.infer<typeof RegistryCommand>;

/** A task as the directory lists it. */
export const TaskSummary = z.object({
  task_id: z.string(),
  name: z.string().optional(),
  status: TaskStatus,
  tier: TaskRecord.shape.tier,
  /** The first 200 characters of the instruction. */
  instruction: z.string(),
  priority: z.number().int().optional(),
  kind: z.string().optional(),
  waiting: TaskWaiting.optional(),
  /** The agent of the newest attempt that has one (the dashboard's list, docs/page.md). */
  agent: z.string().optional(),
  /** What the task's attempts cost so far. */
  cost_usd: z.number().optional(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** Task room → directory: list a new task and claim its name; refused while an unfinished task holds the name. */
export const TaskRegister = z.object({
  type: z.literal("task.register"),
  summary: TaskSummary,
});
export type TaskRegister = z.infer<typeof TaskRegister>;

/** Task room → directory: the task's summary changed. */
export const TaskIndexed = z.object({
  type: z.literal("task.indexed"),
  summary: TaskSummary,
});
export type TaskIndexed = z.infer<typeof TaskIndexed>;

/** Task room → directory: the task was not admitted (the budget refused it): forget it and free its name. */
export const TaskUnlisted = z.object({
  type: z.literal("task.unlisted"),
  task_id: z.string(),
});
export type TaskUnlisted = z.infer<typeof TaskUnlisted>;

export const DirectoryCommand = z.discriminatedUnion("type", [TaskRegister, TaskIndexed, TaskUnlisted]);
export type DirectoryCommand = z.infer<typeof DirectoryCommand>;

/** The registry's answer to `apply.request`: the agent's outcome. */
export const ApplyReply = z.object({ outcome: ApplyOutcome });
export type ApplyReply = z.infer<typeof ApplyReply>;

/** Replies of the reads. */
export const AgentsReply = z.object({ agents: z.array(AgentRecord) });
export type AgentsReply = z.infer<typeof AgentsReply>;
/** Tiers that online agents serve now (the registry's `?view=tiers`). */
export const TiersReply = z.object({ tiers: z.array(ExecutorTier) });
export const LogsReply = z.object({ lines: z.array(LogLine) });
export type LogsReply = z.infer<typeof LogsReply>;
export const TasksReply = z.object({ tasks: z.array(TaskSummary) });
export type TasksReply = z.infer<typeof TasksReply>;

/** One request waiting in the registry for an agent, in the order it will be served (`GET /api/queue`). */
export const QueueEntry = z.object({
  /** 1 = served next. */
  position: z.number().int().positive(),
  task_id: z.string(),
  name: z.string().optional(),
  attempt: z.number().int().positive(),
  tier: ExecutorTier,
  priority: z.number().int(),
  /** When it was asked for (ms since epoch). */
  since: z.number(),
  selector: AgentSelector,
});
export type QueueEntry = z.infer<typeof QueueEntry>;
export const QueueReply = z.object({ queue: z.array(QueueEntry) });
export type QueueReply = z.infer<typeof QueueReply>;
