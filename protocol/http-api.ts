import { z } from "zod";
import { SHORT_NAME_PATTERN } from "./identity.ts";
import { TaskApplyCommand, TaskCancel, TaskSummary, TasksReply } from "./room-commands.ts";
import { TaskView } from "./task.ts";
import { MAX_AFTER } from "./task-request.ts";

// The bodies of the HTTP API's POST routes besides `POST /api/tasks` (task-request.ts), each derived
// from the command it becomes where there is one, so a bound holds at every edge, and the replies
// the MCP tools declare as their output (docs/http-api.md, docs/mcp-tools.md).

/** `POST /api/tasks/<id or name>/cancel`: why, as the task's cancel command takes it. */
export const CancelTaskRequest = TaskCancel.pick({ reason: true }).strict();
export type CancelTaskRequest = z.infer<typeof CancelTaskRequest>;

/** `POST /api/tasks/<id or name>/apply`: which attempt to merge (default: the task's result). */
export const ApplyTaskRequest = TaskApplyCommand.pick({ attempt: true }).strict();
export type ApplyTaskRequest = z.infer<typeof ApplyTaskRequest>;

/** `POST /api/links`: a read-only link for one task or for the dashboard, or an operator link. */
export const LinkRequest = z
  .object({
    /** A task id or name; omit for a dashboard link. */
    task: z.string().min(1).optional(),
    /** A dashboard link that may also make a person's decisions at the human step (`resolve`). */
    operator: z.boolean().optional(),
    /** Lifetime in seconds (default one day, at most 30 days). */
    ttl_s: z
      .number()
      .int()
      .positive()
      .max(30 * 24 * 3600)
      .optional(),
  })
  .strict();
export type LinkRequest = z.infer<typeof LinkRequest>;

/** Most tasks one plan creates. */
export const MAX_PLAN_TASKS = 100;

/** A task's local name within a plan, which other tasks of the plan name in `after`. */
export const PlanKey = z.string().regex(SHORT_NAME_PATTERN, "a key is 1-64 letters, digits, '.', '_' or '-'");

/**
 * A plan task's prerequisites: keys of the plan, or ids or names of existing tasks; none for a task that starts at
 * once.
 */
export const PlanAfter = z.array(z.string().min(1).max(64)).max(MAX_AFTER);

/**
 * One task of a plan: a local `key`, `after` by key (or an existing task's id or name), and the `execute` arguments,
 * checked task by task.
 */
export const PlanTask = z.object({ key: PlanKey, after: PlanAfter.optional() }).catchall(z.unknown());

/** The body of `POST /api/plan` and the MCP tool `plan` (docs/scheduling.md). */
export const PlanRequest = z.object({ tasks: z.array(PlanTask).min(1).max(MAX_PLAN_TASKS) }).strict();
export type PlanRequest = z.infer<typeof PlanRequest>;

/** What `plan` creates: the tasks in the plan's order, and the plan as a Mermaid graph. */
export const PlanReply = z.object({ tasks: z.array(TaskView), mermaid: z.string() });
export type PlanReply = z.infer<typeof PlanReply>;

/**
 * Tasks as the directory lists them; queued ones waiting for an agent with their place in the queue (1 = served next).
 */
export const TaskListReply = TasksReply.extend({
  tasks: z.array(TaskSummary.extend({ position: z.number().int().positive().optional() })),
});
export type TaskListReply = z.infer<typeof TaskListReply>;
