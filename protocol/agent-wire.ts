import { z } from "zod";
import { Acceptance } from "./acceptance.ts";
import { BranchDeliver, BranchDelivered } from "./delivery.ts";
import { ErrorBody } from "./errors.ts";
import { AGENT_NAME_PATTERN } from "./identity.ts";
import { AcceptanceEvidence, AgentCapabilities, BaseRef, DIFF_CHUNK_CHARS, DiffStat, Isolation } from "./isolation.ts";
import { ExecutorTier } from "./ladder.ts";
import { MAX_LINES_PER_BATCH } from "./limits.ts";
import { DeliverMode } from "./repository.ts";
import { AttemptSessionArchive, SessionArchiveRef } from "./session-archive.ts";
import { AttemptStatus, FailureClass, OutputLine, Tokens } from "./task.ts";

// Agent ↔ agent registry room: one persistent socket per agent.

/** An attempt an agent holds, with what the agent knows of it (in hellos and heartbeats). */
export const AttemptRef = z.object({
  task_id: z.string(),
  attempt: z.number().int().positive(),
  /** When the child last printed a line (ms since epoch): tells dead from slow from waiting. */
  last_output_at: z.number().optional(),
  /** Whether the child process is still alive. */
  child_alive: z.boolean().optional(),
});
export type AttemptRef = z.infer<typeof AttemptRef>;

/**
 * Capabilities an agent announced but cannot use for now, each with why and what to do (docs/faults.md):
 * `worktree` while its worktrees directory is not writable or full. The registry sends it no task
 * that needs one until a heartbeat no longer says so.
 */
export const AgentDegraded = z.object({ worktree: z.string().max(1000).optional() });
export type AgentDegraded = z.infer<typeof AgentDegraded>;

/** Agent → registry, first message: who the agent is and what it serves. */
export const AgentHello = z.object({
  type: z.literal("agent.hello"),
  protocol_version: z.number().int(),
  /**
   * Unique agent name, bound to the credential that first took it; a second connection with that credential replaces
   * the first.
   */
  name: z.string().regex(AGENT_NAME_PATTERN),
  kind: z.enum(["mac", "vm"]),
  /** Tiers of the agent's executors file. */
  tiers: z.array(ExecutorTier).min(1),
  /** How many attempts it runs at once. */
  capacity: z.number().int().positive().max(64),
  /** The agent's software version. */
  version: z.string().max(64),
  /** Attempts it is still running (after a reconnect). */
  running: z.array(AttemptRef),
  /** What it can do (absent from agents that predate worktrees: they get none; docs/work-isolation.md). */
  capabilities: AgentCapabilities.optional(),
  /**
   * Tiers of its executors file that failed the preflight (program missing, `--version` failing, a flag refused as
   * root), and why.
   */
  unavailable: z.partialRecord(ExecutorTier, z.string().max(1000)).optional(),
  /** Capabilities it cannot use now, and why (it may start so: an unwritable worktrees directory). */
  degraded: AgentDegraded.optional(),
});
export type AgentHello = z.infer<typeof AgentHello>;

/** Agent → registry, every few seconds: alive, and what it runs. */
export const AgentHeartbeat = z.object({
  type: z.literal("agent.heartbeat"),
  running: z.array(AttemptRef),
  /** Disk its worktrees use, in bytes (measured now and then). */
  worktrees_bytes: z.number().int().nonnegative().optional(),
  /** Capabilities it cannot use now, and why; absent: it can use all it announced. */
  degraded: AgentDegraded.optional(),
});
export type AgentHeartbeat = z.infer<typeof AgentHeartbeat>;

/** Agent → registry: an attempt is over (or was refused), so its slot is free. */
export const TaskReleased = z.object({
  type: z.literal("task.released"),
  task_id: z.string(),
  attempt: z.number().int().positive(),
});
export type TaskReleased = z.infer<typeof TaskReleased>;

/** The outcome of merging a branch into the user's checkout (`task.apply`). */
export const ApplyOutcome = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), commit: z.string(), fast_forward: z.boolean(), already_applied: z.boolean() }),
  z.object({
    ok: z.literal(false),
    code: z.enum(["checkout_dirty", "apply_conflict", "wrong_branch", "push_refused", "repo_unavailable", "internal"]),
    message: z.string(),
    files: z.array(z.string()).max(1000),
  }),
]);
export type ApplyOutcome = z.infer<typeof ApplyOutcome>;

/** Agent → registry: how a `branch.merge` went. */
export const ApplyResult = z.object({
  type: z.literal("branch.merged"),
  request_id: z.string(),
  outcome: ApplyOutcome,
});
export type ApplyResult = z.infer<typeof ApplyResult>;

export const AgentToRegistry = z.discriminatedUnion("type", [
  AgentHello,
  AgentHeartbeat,
  TaskReleased,
  ApplyResult,
  BranchDelivered,
]);
export type AgentToRegistry = z.infer<typeof AgentToRegistry>;

/** Registry → agent: hello accepted. */
export const AgentWelcome = z.object({
  type: z.literal("agent.welcome"),
  /** Seconds between heartbeats; three missed beats and the agent counts as lost. */
  heartbeat_s: z.number().positive(),
  /** Seconds of silence after which a CLI is flagged idle in heartbeats and on the dashboard. */
  idle_flag_s: z.number().positive().optional(),
});
export type AgentWelcome = z.infer<typeof AgentWelcome>;

/**
 * Registry → agent, before `agent.welcome` on its first registration: its own credential. The agent
 * keeps it (mode 0600, in its state directory) and presents it from then on; the mesh keeps only a hash.
 */
export const AgentEnrolled = z.object({
  type: z.literal("agent.enrolled"),
  name: z.string(),
  credential: z.string(),
});
export type AgentEnrolled = z.infer<typeof AgentEnrolled>;

/** Registry → agent: run this attempt. The agent streams its output to the task's room. */
export const TaskAssign = z.object({
  type: z.literal("task.assign"),
  task_id: z.string(),
  attempt: z.number().int().positive(),
  tier: ExecutorTier,
  prompt: z.string(),
  cwd: z.string().optional(),
  /** A git URL instead of `cwd`: the attempt runs in a worktree of the agent's mirror of it (docs/repositories.md). */
  repo: z.string().optional(),
  /** The task's delivery mode, for a repo task. */
  deliver: DeliverMode.optional(),
  /** Checked after the CLI succeeds: the command's exit, and the changed files against allowed paths. */
  acceptance: Acceptance.optional(),
  /** `none` runs in place; otherwise a worktree when `cwd` is inside a git repository. */
  isolation: Isolation.optional(),
  /** The commit the attempt starts from: the task's recorded base, else its `base_ref`, else HEAD. */
  base: BaseRef.optional(),
  /** The task's name, for the attempt's branch (`mesh/<name or id>/<n>-<tier>`). */
  task_name: z.string().optional(),
  /**
   * The attempt's cost cap in US dollars: its budget reservation (and at most what the task's
   * `max_cost_usd` leaves). The agent passes it to a CLI that takes one and stops the attempt as
   * `budget_exceeded` once the cost the CLI streams passes it (docs/costs.md).
   */
  max_cost_usd: z.number().positive().optional(),
  /**
   * The attempt's own token, minted by the registry for the agent it assigned the attempt to: the
   * task room takes this attempt's hello, lines and exit only over a socket opened with it (docs/agent-identity.md).
   */
  attempt_token: z.string().max(1000).optional(),
  /** W3C `traceparent` naming this attempt's span (docs/traces.md): the agent gives it to the CLI as `TRACEPARENT`. */
  traceparent: z.string().max(55).optional(),
  /**
   * Continue an earlier attempt's CLI session (docs/resume.md): when this agent ran
   * attempt `attempt` (at `tier`) and its executor declares `resume`, it runs in that attempt's
   * worktree with the CLI's `resume` arguments; otherwise it starts fresh and logs why.
   */
  resume: z
    .object({
      attempt: z.number().int().positive(),
      agent: z.string(),
      tier: ExecutorTier,
      session_id: z.string().min(1).max(200),
      /**
       * The prompt for the continued session (the person's guidance: the CLI has the rest); `prompt` is for a fresh
       * start.
       */
      prompt: z.string().optional(),
      /**
       * The room keeps that session's file (docs/sessions.md): an agent other than `agent` fetches it to continue it.
       */
      archive: SessionArchiveRef.optional(),
    })
    .optional(),
});
export type TaskAssign = z.infer<typeof TaskAssign>;

/** Registry → agent: merge an attempt's branch into the user's checkout (`apply`); answer with `branch.merged`. */
export const TaskApply = z.object({
  type: z.literal("branch.merge"),
  request_id: z.string(),
  task_id: z.string(),
  attempt: z.number().int().positive(),
  repo: z.string(),
  branch: z.string(),
  /** The branch the checkout had at `base`; absent when it was detached. */
  target_branch: z.string().optional(),
  base: z.string(),
  commit: z.string(),
  /**
   * A repo task: merge into `target_branch` (absent: the default branch) of this URL, from the agent's git directory
   * `repo` (docs/delivery.md).
   */
  remote: z.string().max(2000).optional(),
});
export type TaskApply = z.infer<typeof TaskApply>;

/** Registry → agent: a task ended; its worktrees can go, but for `keep` (the winner, kept for apply). */
export const TaskEnded = z.object({
  type: z.literal("worktrees.release"),
  task_id: z.string(),
  keep: z.number().int().positive().optional(),
});
export type TaskEnded = z.infer<typeof TaskEnded>;

/** Any peer → any peer: a typed error about the last message. */
export const ErrorMessage = ErrorBody.extend({
  type: z.literal("error"),
  /** The `type` of the message this answers, when it was known. */
  in_reply_to: z.string().optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** Registry → agent: a heartbeat arrived. An agent that hears nothing for two beats reconnects. */
export const HeartbeatAck = z.object({
  type: z.literal("heartbeat.ack"),
  server_time: z.number(),
});
export type HeartbeatAck = z.infer<typeof HeartbeatAck>;

export const RegistryToAgent = z.discriminatedUnion("type", [
  AgentEnrolled,
  AgentWelcome,
  TaskAssign,
  HeartbeatAck,
  TaskApply,
  TaskEnded,
  BranchDeliver,
  ErrorMessage,
]);
export type RegistryToAgent = z.infer<typeof RegistryToAgent>;

// Agent ↔ task room: one socket per attempt, opened when the agent takes it.

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
