import type {
  Attempt,
  ExecutorTier,
  TaskAssign,
  TaskDependency,
  TaskRecord,
  TaskWaiting,
} from "../../protocol/index.ts";
import { startingTier } from "./escalation.ts";
import { attemptOf, isFinished, isOpenAttempt, newAttempt } from "./task-state.ts";

// Scheduling's pure steps (docs/scheduling.md): what a queued task waits for, its
// prerequisites ending, its start once they all succeeded, the queue timeout, and resumed sessions.

/**
 * What a queued task waits for, derived from its attempts so it is never out of date: other tasks
 * (set while prerequisites are open), else an agent for its oldest attempt still waiting for one.
 */
export function withWaiting(task: TaskRecord): TaskRecord {
  const waiting = waitingOf(task);
  if (sameWaiting(waiting, task.waiting)) return task;
  const { waiting: _old, ...rest } = task;
  return waiting === undefined ? rest : { ...rest, waiting };
}

function waitingOf(task: TaskRecord): TaskWaiting | undefined {
  if (isFinished(task) || task.status === "awaiting_human") return undefined;
  if (task.waiting?.for === "tasks" && task.attempts.length === 0) return task.waiting;
  const queued = task.attempts.filter((a) => a.status === "dispatched");
  if (queued.length === 0 || task.status !== "queued") return undefined;
  const oldest = queued.reduce((a, b) => (b.dispatched_at < a.dispatched_at ? b : a));
  return { for: "agent", tier: oldest.tier, since: oldest.dispatched_at };
}

function sameWaiting(a: TaskWaiting | undefined, b: TaskWaiting | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.for === b.for && a.tier === b.tier && a.since === b.since && (a.ids ?? []).join() === (b.ids ?? []).join();
}

/** What a prerequisite's news does to a task waiting for it. */
export type DependencyStep =
  /** Nothing changes: the task does not wait for it, or it has not ended. */
  | { kind: "none" }
  /** One fewer to wait for; more remain. */
  | { kind: "waiting"; task: TaskRecord; note: string }
  /** The last one succeeded: the task may start (once served tiers are known). */
  | { kind: "ready"; task: TaskRecord; note: string }
  /** One failed or was cancelled: the task fails as `dependency_failed`, having reserved nothing. */
  | { kind: "failed"; task: TaskRecord; note: string };

export function dependencyStep(task: TaskRecord, news: TaskDependency, now: number): DependencyStep {
  const ids = task.waiting?.for === "tasks" ? (task.waiting.ids ?? []) : [];
  if (task.status !== "queued" || !ids.includes(news.task_id)) return { kind: "none" };
  const label = news.name === undefined ? news.task_id : `${news.name} (${news.task_id})`;
  if (news.status === "succeeded") {
    const left = ids.filter((id) => id !== news.task_id);
    const waiting: TaskWaiting = { for: "tasks", ids: left, since: task.waiting?.since ?? now };
    if (left.length > 0)
      return {
        kind: "waiting",
        task: { ...task, waiting, updated_at: now },
        note: `task ${label} succeeded; still waiting for ${left.join(", ")}`,
      };
    return {
      kind: "ready",
      task: { ...task, waiting, updated_at: now },
      note: `task ${label} succeeded; every task this one is after succeeded`,
    };
  }
  if (news.status !== "failed" && news.status !== "cancelled") return { kind: "none" };
  const why = news.error === undefined ? news.status : `${news.status}: ${news.error.message}`;
  const message = `task ${label}, which this task is after, ${news.status === "cancelled" ? "was cancelled" : "failed"} (${why.slice(0, 500)}); this task was not started and reserved nothing. Fix that task and create this one again.`;
  const { waiting: _waiting, ...rest } = task;
  return {
    kind: "failed",
    task: { ...rest, status: "failed", error: { code: "dependency_failed", message }, updated_at: now },
    note: message,
  };
}

/** The task's prerequisites all succeeded: its first attempt, at the first served tier from its own. */
export function beginTask(task: TaskRecord, served: readonly ExecutorTier[], now: number): TaskRecord {
  const asked = task.tier === "consensus" || task.tier === "human" ? "sonnet" : task.tier;
  const start = startingTier(asked, new Set(served));
  const skips = start.skipped.map((tier) => ({ tier, reason: "no connected agent serves it", at: now }));
  const { waiting: _waiting, ...rest } = task;
  return {
    ...rest,
    tier: start.tier,
    attempts: [newAttempt(1, start.tier, now)],
    ...(skips.length === 0 ? {} : { skipped_tiers: [...(task.skipped_tiers ?? []), ...skips] }),
    updated_at: now,
  };
}

/**
 * The registry took the attempt off its queue: no online agent served its tier for the queue timeout
 * (`no_agent`), or its pinned agent cannot make worktrees now (`disk_full`). It fails with that
 * class, and the task with it unless others run.
 */
export function unservedAttempt(
  task: TaskRecord,
  n: number,
  message: string,
  now: number,
  failureClass: "no_agent" | "disk_full" = "no_agent",
): TaskRecord | null {
  const attempt = attemptOf(task, n);
  if (attempt === undefined || attempt.status !== "dispatched" || isFinished(task)) return null;
  const failed: Attempt = { ...attempt, status: "failed", failure_class: failureClass, ended_at: now };
  const attempts = task.attempts.map((a) => (a.n === n ? failed : a));
  const othersOpen = attempts.some(isOpenAttempt);
  return {
    ...task,
    attempts,
    ...(othersOpen ? {} : { status: "failed" as const, error: { code: failureClass, message } }),
    updated_at: now,
  };
}

/**
 * Which earlier session a new attempt continues: a person's retry continues the latest attempt at the
 * same tier that reported a session id; a retry after `agent_lost` continues the lost attempt's, if
 * its id was seen. The agent decides whether it can (same agent, `resume` declared, worktree there).
 */
export function resumeOf(
  task: TaskRecord,
  attempt: Attempt,
): { resume?: NonNullable<TaskAssign["resume"]>; why?: string } {
  const earlier = task.attempts.filter((a) => a.n < attempt.n && a.tier === attempt.tier);
  if (attempt.role === "retry") {
    const prior = earlier.filter((a) => a.status !== "dispatched" && a.status !== "cancelled").at(-1);
    if (prior === undefined) return { why: `no earlier attempt ran at ${attempt.tier}` };
    if (prior.session_id === undefined || prior.agent === null)
      return { why: `attempt ${prior.n} reported no session id` };
    const prompt =
      attempt.guidance === undefined
        ? "A person reviewed your work and asks you to try again. Continue from where you stopped."
        : `A person reviewed your work and asks: ${attempt.guidance}`;
    return { resume: { attempt: prior.n, agent: prior.agent, tier: prior.tier, session_id: prior.session_id, prompt } };
  }
  const lost = earlier.filter((a) => a.failure_class === "agent_lost").at(-1);
  if (lost === undefined || lost.n !== attempt.n - 1) return {};
  if (lost.session_id === undefined || lost.agent === null)
    return { why: `lost attempt ${lost.n} reported no session id` };
  return {
    resume: {
      attempt: lost.n,
      agent: lost.agent,
      tier: lost.tier,
      session_id: lost.session_id,
      prompt: "Your previous run was interrupted (the agent was lost). Continue the task from where you stopped.",
    },
  };
}

/** A running attempt's CLI session id, as its agent reported it (attempt.session); null when nothing changes. */
export function withSession(task: TaskRecord, n: number, sessionId: string, now: number): TaskRecord | null {
  const attempt = attemptOf(task, n);
  if (attempt?.status !== "running" || attempt.session_id === sessionId) return null;
  return {
    ...task,
    attempts: task.attempts.map((a) => (a.n === n ? { ...a, session_id: sessionId } : a)),
    updated_at: now,
  };
}
