import { z } from "zod";
import { AgentRecord } from "./agent-record.ts";
import { ErrorMessage } from "./agent-wire.ts";
import { TaskSummary } from "./room-commands.ts";
import { LogLine, TaskRecord } from "./task.ts";

// Browser ↔ task room: a viewer watching one task.

/** Viewer → task room: send me the lines from `since_seq` on, then follow live. */
export const LogsSubscribe = z.object({
  type: z.literal("logs.subscribe"),
  since_seq: z.number().int().nonnegative(),
});

export const ViewerToTask = z.discriminatedUnion("type", [LogsSubscribe]);
export type ViewerToTask = z.infer<typeof ViewerToTask>;

/** Task room → viewer: the task as it is now (sent on connect and on every change). */
export const TaskSnapshot = z.object({
  type: z.literal("task.snapshot"),
  task: TaskRecord,
});

/** Task room → viewer: lines in `seq` order, each sent to a subscriber exactly once. */
export const LogLines = z.object({
  type: z.literal("log.lines"),
  lines: z.array(LogLine),
});

export const TaskToViewer = z.discriminatedUnion("type", [TaskSnapshot, LogLines, ErrorMessage]);
export type TaskToViewer = z.infer<typeof TaskToViewer>;

// Browser ↔ agent registry room: a dashboard watching the agents.

/** Dashboard → registry: send the agent list now. */
export const AgentsList = z.object({ type: z.literal("agents.list") });

export const DashboardToRegistry = z.discriminatedUnion("type", [AgentsList]);
export type DashboardToRegistry = z.infer<typeof DashboardToRegistry>;

/** Registry → dashboard: every registered agent (sent on connect and on every change). */
export const AgentsSnapshot = z.object({
  type: z.literal("agents.snapshot"),
  agents: z.array(AgentRecord),
  /** Seconds of CLI silence after which a running attempt is flagged idle. */
  idle_flag_s: z.number().positive().optional(),
});

export const RegistryToDashboard = z.discriminatedUnion("type", [AgentsSnapshot, ErrorMessage]);
export type RegistryToDashboard = z.infer<typeof RegistryToDashboard>;

// Browser ↔ task directory room: a dashboard following the task list (docs/wire-protocol.md).

/**
 * Dashboard → directory: follow the list. With the `epoch` and `seq` of the last message it held, it
 * gets only what changed since (a reconnect); otherwise, or when the room restarted since (a new
 * epoch), the whole list.
 */
export const TasksSubscribe = z.object({
  type: z.literal("tasks.subscribe"),
  epoch: z.string().max(64).optional(),
  seq: z.number().int().nonnegative().optional(),
});

export type TasksSubscribe = z.infer<typeof TasksSubscribe>;

export const DashboardToDirectory = z.discriminatedUnion("type", [TasksSubscribe]);
export type DashboardToDirectory = z.infer<typeof DashboardToDirectory>;

/**
 * Directory → dashboard: the newest tasks (at most `TASK_LIST_FEED_MAX`), newest first, in `parts`
 * messages of at most `TASK_LIST_PART` tasks (frames stay far below the runtime's message limit);
 * part 0 replaces the list. `more` when older ones exist.
 */
export const TasksSnapshot = z.object({
  type: z.literal("tasks.snapshot"),
  epoch: z.string(),
  seq: z.number().int().nonnegative(),
  part: z.number().int().nonnegative(),
  parts: z.number().int().positive(),
  tasks: z.array(TaskSummary),
  more: z.boolean(),
});

/**
 * Directory → dashboard: summaries that changed (or are new) since the subscriber's `seq`, and tasks no longer listed.
 */
export type TasksSnapshot = z.infer<typeof TasksSnapshot>;

export const TasksChanged = z.object({
  type: z.literal("tasks.changed"),
  epoch: z.string(),
  seq: z.number().int().nonnegative(),
  tasks: z.array(TaskSummary),
  removed: z.array(z.string()),
});

export type TasksChanged = z.infer<typeof TasksChanged>;

export const DirectoryToDashboard = z.discriminatedUnion("type", [TasksSnapshot, TasksChanged, ErrorMessage]);
export type DirectoryToDashboard = z.infer<typeof DirectoryToDashboard>;

/** The most tasks a dashboard's list holds: the newest; older ones through `GET /api/tasks`. */
export const TASK_LIST_FEED_MAX = 20_000;
/** Tasks per snapshot message (about 300 KB). */
export const TASK_LIST_PART = 1_000;
