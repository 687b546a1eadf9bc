import { z } from "zod";
import { ErrorMessage } from "./agent-wire.ts";
import { AgentRecord } from "./agent-record.ts";
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
