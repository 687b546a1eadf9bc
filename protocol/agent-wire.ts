import { z } from "zod";
import { Acceptance } from "./acceptance.ts";
import { BranchDeliver, BranchDelivered } from "./delivery.ts";
import { ErrorBody } from "./errors.ts";
import { AGENT_NAME_PATTERN } from "./identity.ts";
import { AgentCapabilities, BaseRef, Isolation } from "./isolation.ts";
import { ExecutorTier } from "./ladder.ts";
import { DeliverMode } from "./repository.ts";
import { SessionArchiveRef } from "./session-archive.ts";

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
