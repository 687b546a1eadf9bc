import { z } from "zod";
import { Acceptance } from "./acceptance.ts";
import { ErrorCode } from "./errors.ts";
import { AcceptanceEvidence, Applied, ConsensusDecision, DiffStat, Isolation, TaskResult } from "./isolation.ts";
import { ExecutorTier, Tier } from "./ladder.ts";
import { MAX_INSTRUCTION_CHARS, MAX_LINE_CHARS } from "./limits.ts";
import { DeliverMode, Delivery } from "./repository.ts";
import { TaskCostCap, TaskPriority } from "./task-request.ts";
import { SpanId, TraceId } from "./trace-context.ts";

/** A task's lifecycle: queued → running → succeeded | failed | cancelled (awaiting_human comes with escalation). */
export const TaskStatus = z.enum(["queued", "running", "succeeded", "failed", "awaiting_human", "cancelled"]);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** Statuses a task never leaves. */
export const FINISHED_TASK_STATUSES: readonly TaskStatus[] = ["succeeded", "failed", "cancelled"];

/** One attempt's lifecycle: dispatched (waiting for an agent) → running → succeeded | failed | cancelled. */
export const AttemptStatus = z.enum(["dispatched", "running", "succeeded", "failed", "cancelled"]);
export type AttemptStatus = z.infer<typeof AttemptStatus>;

/** Why an attempt failed: quality classes escalate, infrastructure classes do not (docs/escalation.md). */
export const FailureClass = z.enum([
  "test_fail",
  "wrong_file",
  "unknown",
  "auth_failure",
  "timeout",
  "syntax_error",
  "agent_lost",
  "cancelled",
  /**
   * Infrastructure: an attempt passed its cost cap (its reservation), or the task's `max_cost_usd` (docs/budget.md).
   */
  "budget_exceeded",
  /** Infrastructure: the CLI hit the agent's memory, CPU or process limit; another tier would hit it too. */
  "resource_limit",
  /**
   * Infrastructure: the agent's worktree or mirror directory is full or unwritable (or not a directory); the error
   * names the directory and what to do.
   */
  "disk_full",
  /**
   * Infrastructure: the CLI could not reach its service (no route, no DNS, a proxy refusing): another tier would fail
   * the same way (docs/escalation.md).
   */
  "network_error",
  /** Infrastructure: no online agent served the attempt's tier within the task's queue timeout (docs/scheduling.md). */
  "no_agent",
  /** Infrastructure: a task this one was `after` failed or was cancelled; nothing was reserved or dispatched. */
  "dependency_failed",
  /**
   * Infrastructure: the task's repository could not be cloned or fetched (not found, refused, unreachable, wrong
   * credentials) or its base_ref is not on the remote (docs/repositories.md).
   */
  "repo_unavailable",
  /** Infrastructure: the repository's `.agent-mesh/setup` exited non-zero or ran out of time (docs/repositories.md). */
  "setup_failed",
]);
export type FailureClass = z.infer<typeof FailureClass>;

/** Why a task failed or stopped: a failure class, or a mesh error code. */
export const TaskError = z.object({
  code: z.union([FailureClass, ErrorCode]),
  /** What happened and what to do. */
  message: z.string(),
});
export type TaskError = z.infer<typeof TaskError>;

/** Tokens spent by an attempt or a task. */
export const Tokens = z.object({
  /** Input tokens, cached ones included. */
  input: z.number().int().nonnegative(),
  /** Output tokens. */
  output: z.number().int().nonnegative(),
});
export type Tokens = z.infer<typeof Tokens>;

/** Which agents may take a task: one by name, any of a kind, or a preferred kind with fallback. */
export const AgentSelector = z.discriminatedUnion("by", [
  /** Only the agent of this name. */
  z.object({ by: z.literal("name"), name: z.string() }),
  /** Only agents of this kind. */
  z.object({ by: z.literal("kind"), kind: z.enum(["mac", "vm"]) }),
  /** Agents of this kind when one can take it, otherwise any agent. */
  z.object({ by: z.literal("prefer"), kind: z.enum(["mac", "vm"]) }),
  /** Any agent that serves the tier. */
  z.object({ by: z.literal("any") }),
]);
export type AgentSelector = z.infer<typeof AgentSelector>;

/** One try at a task by one agent. */
export const Attempt = z.object({
  /** 1-based attempt number within the task. */
  n: z.number().int().positive(),
  /** The tier this attempt runs at. */
  tier: ExecutorTier,
  /** The CLI the agent ran (its command's program name); empty until an agent takes it. */
  executor: z.string(),
  /** The model, where the executor's output names one (or the one the executor was told to use). */
  model: z.string().optional(),
  /** The CLI's session id, for resuming it. */
  session_id: z.string().optional(),
  /** The attempt whose CLI session (and worktree) this one continued (docs/resume.md). */
  resumed_from: z.number().int().positive().optional(),
  /**
   * The attempt whose session this one asked to continue, which the CLI refused: it ran fresh instead (docs/resume.md).
   */
  resume_refused: z.number().int().positive().optional(),
  /** Files the run changed in its cwd (a git work tree), relative to it. */
  changed_files: z.array(z.string()).optional(),
  /** Why this attempt was made: the next step of the ladder, a consensus candidate, or a person's retry. */
  role: z.enum(["sequential", "consensus", "retry"]).optional(),
  /** A person's guidance for a retry. */
  guidance: z.string().optional(),
  /** This attempt's final output (the executor's result text, or the tail of stdout). */
  output: z.string().optional(),
  /** The agent running it; null while it waits for one. */
  agent: z.string().nullable(),
  /** Where the attempt is in its lifecycle. */
  status: AttemptStatus,
  /** Why it failed, when it did. */
  failure_class: FailureClass.optional(),
  /** The child's exit code; absent while running or when it died by a signal. */
  exit_code: z.number().int().optional(),
  /** The signal that ended the child, if one did. */
  signal: z.string().optional(),
  /** Tokens the executor reported. */
  tokens: Tokens,
  /** Cost in US dollars. */
  cost_usd: z.number().nonnegative(),
  /** Wall-clock time from start to exit, in milliseconds. */
  latency_ms: z.number().nonnegative(),
  /** When it was dispatched (ms since epoch). */
  dispatched_at: z.number(),
  /** When an agent started it (ms since epoch). */
  started_at: z.number().optional(),
  /** When it ended (ms since epoch). */
  ended_at: z.number().optional(),
  /** Where it ran: its own git worktree, or in place (docs/work-isolation.md). */
  isolation: Isolation.optional(),
  /** Its branch (`mesh/<task name or id>/<n>-<tier>`), base commit, and its commit (absent when it changed nothing). */
  branch: z.string().optional(),
  base: z.string().optional(),
  commit: z.string().optional(),
  diff_stat: DiffStat.optional(),
  /** The stored diff was cut at a file boundary (the branch holds all of it). */
  diff_truncated: z.boolean().optional(),
  /** Hashes of the lines its diff changed: what consensus compares. */
  diff_fingerprint: z.array(z.string()).optional(),
  /** The acceptance check's evidence. */
  acceptance: AcceptanceEvidence.optional(),
  /** The user's repository and the branch its checkout had at `base`: where `apply` merges to. */
  checkout: z.object({ repo: z.string(), branch: z.string().optional() }).optional(),
  /** The cap the budget granted it when it started (docs/budget.md). */
  cap_usd: z.number().nonnegative().optional(),
  /** Its cost came only at its end and passed its cap: it kept its result; the excess counts toward the halt. */
  over_cap: z.boolean().optional(),
});
export type Attempt = z.infer<typeof Attempt>;

/** What a queued task waits for: an agent that serves its tier, or other tasks to succeed. */
export const TaskWaiting = z.object({
  for: z.enum(["agent", "tasks"]),
  /** For `agent`: the tier it waits to be served at. */
  tier: ExecutorTier.optional(),
  /** For `tasks`: the ids of the tasks it still waits for. */
  ids: z.array(z.string()).optional(),
  /** Since when (ms since epoch). */
  since: z.number(),
});
export type TaskWaiting = z.infer<typeof TaskWaiting>;

/** Why a task started at its tier: the routing rule that picked it (or the `executor` argument, or the default). */
export const TaskRouting = z.object({ tier: ExecutorTier, rule: z.string() });
export type TaskRouting = z.infer<typeof TaskRouting>;

/** A task as the task room stores it. */
export const TaskRecord = z.object({
  /** ULID; also the task room's id. */
  task_id: z.string(),
  /** The name of a named (dispatch) task. */
  name: z.string().optional(),
  status: TaskStatus,
  /** What the executor is asked to do. */
  instruction: z.string().max(MAX_INSTRUCTION_CHARS),
  /** The working directory on the agent's machine. */
  cwd: z.string().optional(),
  /** The git URL the agent clones (instead of `cwd`), and what happens to the result (docs/repositories.md). */
  repo: z.string().optional(),
  deliver: DeliverMode.optional(),
  /** Where a repo task's result was delivered (its pushed branch, its pull request), or why not. */
  delivery: Delivery.optional(),
  /** The tier the task is at now. */
  tier: Tier,
  /** Which agents may take it. */
  agent_selector: AgentSelector,
  /** How a successful run is checked before it is accepted. */
  acceptance: Acceptance.optional(),
  attempts: z.array(Attempt),
  /** Tiers the task passed over because no connected agent served them. */
  skipped_tiers: z.array(z.object({ tier: ExecutorTier, reason: z.string(), at: z.number() })).optional(),
  /** The attempt whose result the task took (consensus winner, or a person's approval). */
  winner: z.number().int().positive().optional(),
  /** Set while the task waits for a person, and kept with the decision once made. */
  human: z
    .object({
      reason: z.string(),
      /** What the attempts did, for the person deciding. */
      summary: z.string(),
      since: z.number(),
      decision: z.enum(["approve", "retry", "reject"]).optional(),
      decided_at: z.number().optional(),
    })
    .optional(),
  /** Sum over attempts. */
  tokens: Tokens,
  cost_usd: z.number().nonnegative(),
  latency_ms: z.number().nonnegative(),
  /** The final output (the tail of stdout for `text` executors). */
  output: z.string().optional(),
  /** Why the task failed or was cancelled. */
  error: TaskError.optional(),
  /** Isolation asked for (default: a worktree when `cwd` is inside a git repository). */
  isolation: Isolation.optional(),
  /** The commit-ish every attempt starts from, as asked; `base` is the sha it resolved to on the first attempt. */
  base_ref: z.string().optional(),
  base: z.string().optional(),
  /** The task's own hard cap over all its attempts, in US dollars (docs/budget.md). */
  max_cost_usd: TaskCostCap.optional(),
  /** 0-9, higher first (docs/scheduling.md); absent means 5. */
  priority: TaskPriority.optional(),
  /** The kind of work, as routing matched it. */
  kind: z.string().optional(),
  /** Why it started at its tier. */
  routing: TaskRouting.optional(),
  /** The tasks (ids) that had to succeed before this one was dispatched. */
  after: z.array(z.string()).optional(),
  /** Tasks that wait for this one: told when it ends. */
  dependents: z.array(z.string()).optional(),
  /** How long an attempt may wait for an agent serving its tier, in seconds. */
  queue_timeout_s: z.number().positive().optional(),
  /** What a queued task waits for; absent once an agent runs it. */
  waiting: TaskWaiting.optional(),
  /** Once succeeded: the attempt it took and where its work is. */
  result: TaskResult.optional(),
  /** Send `task.succeeded` / `task.failed` webhooks too (docs/notifications.md). */
  notify: z.boolean().optional(),
  /** The task's W3C trace id (32 lowercase hex), from the creating request's `traceparent` or new (docs/traces.md). */
  trace_id: TraceId.optional(),
  /** The span id of the creating request's `traceparent`: the parent of the task's span (docs/traces.md). */
  trace_parent: SpanId.optional(),
  /** How a consensus round was decided. */
  consensus: ConsensusDecision.optional(),
  /** When its result was merged into the user's checkout. */
  applied: Applied.optional(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type TaskRecord = z.infer<typeof TaskRecord>;

/** A task as tools and the HTTP API return it: the record plus its diagram and a watch link. */
export const TaskView = TaskRecord.extend({
  /** The task's lifecycle as a Mermaid diagram. */
  mermaid: z.string(),
  /** A read-only, expiring link that opens this task's live log in a browser. */
  watch_url: z.string(),
});
export type TaskView = z.infer<typeof TaskView>;

/** Which stream a log line came from; `system` lines are the mesh's own notes (started, exited). */
export const LogStream = z.enum(["stdout", "stderr", "system"]);
export type LogStream = z.infer<typeof LogStream>;

/** One output line as an agent sends it: numbered by the room on arrival. */
export const OutputLine = z.object({
  stream: LogStream,
  /** The line without its newline; longer lines are split by the agent. */
  text: z.string().max(MAX_LINE_CHARS),
  /** When the agent read it (ms since epoch). */
  ts: z.number(),
});
export type OutputLine = z.infer<typeof OutputLine>;

/** One stored output line: `seq` counts from 0 per task, across attempts. */
export const LogLine = OutputLine.extend({
  seq: z.number().int().nonnegative(),
  /** The attempt that printed it. */
  attempt: z.number().int().positive(),
});
export type LogLine = z.infer<typeof LogLine>;
