// Agent ↔ task room: one socket per attempt, opened when the agent takes it (docs/wire-protocol.md).
import { z } from "zod";
import { ErrorMessage } from "./agent-wire.ts";
import { ErrorBody } from "./errors.ts";
import { AcceptanceEvidence, DIFF_CHUNK_CHARS, DiffStat, Isolation } from "./isolation.ts";
import { MAX_LINES_PER_BATCH } from "./limits.ts";
import { AttemptSessionArchive } from "./session-archive.ts";
import { AttemptStatus, FailureClass, OutputLine, Tokens } from "./task.ts";

/** Agent → task room, first message: I hold attempt N and run it with this executor. */
export const AttemptHello = z.object({
  type: z.literal("attempt.hello"),
  protocol_version: z.number().int(),
  agent: z.string(),
  attempt: z.number().int().positive(),
  /** The program the executor runs (e.g. `claude`). */
  executor: z.string(),
  /** The earlier attempt whose CLI session this one continues (task.assign's `resume`, when the agent could). */
  resumed_from: z.number().int().positive().optional(),
});
export type AttemptHello = z.infer<typeof AttemptHello>;

/**
 * Agent → task room: output lines. `first_line` numbers them within the attempt (from 0), so a
 * batch sent twice after a reconnect is recognised and its duplicates dropped.
 */
export const LogBatch = z.object({
  type: z.literal("log.batch"),
  attempt: z.number().int().positive(),
  first_line: z.number().int().nonnegative(),
  lines: z.array(OutputLine).min(1).max(MAX_LINES_PER_BATCH),
});
export type LogBatch = z.infer<typeof LogBatch>;

/** Agent → task room: the child exited. */
export const AttemptExit = z.object({
  type: z.literal("attempt.exit"),
  attempt: z.number().int().positive(),
  /** Lines of this attempt the agent sent in all; the room checks it holds them. */
  line_count: z.number().int().nonnegative(),
  /** Null when the child died by a signal or never started. */
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  duration_ms: z.number().nonnegative(),
  /** The final output (for `text` executors, the tail of stdout). */
  output: z.string().max(64_000).optional(),
  /** Why the attempt failed, when it did (spawn failure, a stop by the agent, or any classified failure). */
  error: ErrorBody.optional(),
  /** The agent's classification when it knows better than the exit code (timeout, cancelled, spawn failure). */
  failure_class: FailureClass.optional(),
  /**
   * What the executor's output said: the model, its session, tokens and cost (computed from rates where the CLI reports
   * none).
   */
  model: z.string().max(200).optional(),
  session_id: z.string().max(200).optional(),
  tokens: Tokens.optional(),
  cost_usd: z.number().nonnegative().optional(),
  /** Files the run changed in its cwd, relative to it (at most 1000 listed). */
  changed_files: z.array(z.string().max(4096)).max(1000).optional(),
  /** Where it ran, and its work as a commit (docs/work-isolation.md). */
  isolation: Isolation.optional(),
  branch: z.string().max(300).optional(),
  base: z.string().max(100).optional(),
  commit: z.string().max(100).optional(),
  diff_stat: DiffStat.optional(),
  diff_truncated: z.boolean().optional(),
  /** How many `attempt.diff` frames came before this exit on this connection. */
  diff_chunks: z.number().int().nonnegative().optional(),
  diff_fingerprint: z.array(z.string().max(16)).max(2000).optional(),
  acceptance: AcceptanceEvidence.optional(),
  checkout: z.object({ repo: z.string().max(4096), branch: z.string().max(300).optional() }).optional(),
  /**
   * The CLI told its cost only at its end, and it passed the attempt's cap: the run was not stopped
   * and keeps its result; the excess counts toward the daily halt (docs/budget.md).
   */
  over_cap: z.boolean().optional(),
  /**
   * The attempt said it resumed (hello's `resumed_from`), but the CLI refused that session (its file
   * gone): the agent ran the CLI again fresh, on the same attempt, with task.assign's `prompt` (docs/resume.md).
   */
  resume_refused: z.literal(true).optional(),
});
export type AttemptExit = z.infer<typeof AttemptExit>;

/**
 * How an attempt ended, as the agent's runner reports it: `attempt.exit` without the link's own fields (its attempt,
 * line and diff counts).
 */
export const AttemptOutcome = AttemptExit.omit({ type: true, attempt: true, line_count: true, diff_chunks: true });
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/**
 * Agent → task room: a piece of the attempt's diff (base → commit), sent before `attempt.exit` on the
 * same connection, all of them again after a reconnect (the room keeps them by index).
 */
export const AttemptDiff = z.object({
  type: z.literal("attempt.diff"),
  attempt: z.number().int().positive(),
  index: z.number().int().nonnegative().max(1000),
  text: z.string().max(DIFF_CHUNK_CHARS),
});
export type AttemptDiff = z.infer<typeof AttemptDiff>;

/**
 * Agent → task room: the CLI's session id, as soon as its output names it (docs/sessions.md). The room keeps
 * it on the attempt, so a retry after the attempt is lost can continue that session.
 */
export const AttemptSession = z.object({
  type: z.literal("attempt.session"),
  attempt: z.number().int().positive(),
  session_id: z.string().min(1).max(200),
});
export type AttemptSession = z.infer<typeof AttemptSession>;

export const AgentToTask = z.discriminatedUnion("type", [
  AttemptHello,
  LogBatch,
  AttemptDiff,
  AttemptExit,
  AttemptSession,
  AttemptSessionArchive,
]);
export type AgentToTask = z.infer<typeof AgentToTask>;

/** An attempt's cost cap and which limit it comes from, so a stop can say which cap it was. */
export const AttemptCap = z.object({
  usd: z.number().nonnegative(),
  of: z.enum(["task", "daily_halt"]),
});
export type AttemptCap = z.infer<typeof AttemptCap>;

/** Task room → agent: hello accepted; resume sending from `next_line`. */
export const AttemptAccepted = z.object({
  type: z.literal("attempt.accepted"),
  attempt: z.number().int().positive(),
  next_line: z.number().int().nonnegative(),
  /**
   * The attempt's cost cap, granted by the budget when the attempt was let start (docs/budget.md):
   * the task's remaining `max_cost_usd`, or what the daily halt leaves, whichever is lower. The agent
   * stops a CLI whose streamed cost passes it; it replaces `task.assign`'s `max_cost_usd`.
   */
  cap: AttemptCap.optional(),
});
export type AttemptAccepted = z.infer<typeof AttemptAccepted>;

/** Task room → agent: lines below `next_line` are stored; the agent may forget them. */
export const LogAck = z.object({
  type: z.literal("log.ack"),
  attempt: z.number().int().positive(),
  next_line: z.number().int().nonnegative(),
});
export type LogAck = z.infer<typeof LogAck>;

/** Task room → agent: stop this attempt (the task was cancelled). */
export const AttemptCancel = z.object({
  type: z.literal("attempt.cancel"),
  attempt: z.number().int().positive(),
  reason: z.string(),
});
export type AttemptCancel = z.infer<typeof AttemptCancel>;

/** Task room → agent: the exit is recorded; the agent may close the socket. */
export const AttemptClosed = z.object({
  type: z.literal("attempt.closed"),
  attempt: z.number().int().positive(),
  status: AttemptStatus,
});
export type AttemptClosed = z.infer<typeof AttemptClosed>;

export const TaskToAgent = z.discriminatedUnion("type", [
  AttemptAccepted,
  LogAck,
  AttemptCancel,
  AttemptClosed,
  ErrorMessage,
]);
export type TaskToAgent = z.infer<typeof TaskToAgent>;
