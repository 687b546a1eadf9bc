import type * as Party from "partykit/server";
import type { z } from "zod";
import {
  describeIssues,
  type ErrorBody,
  ErrorReply,
  type LogLine,
  type LogsReply,
  MAX_LOG_READ,
  PartyName,
  parseJson,
  type QueueReply,
  type ResolveDecision,
  type Result,
  SINGLETON_ROOM_ID,
  type TaskCommand,
  TaskId,
  type TaskListReply,
  TaskName,
  type TaskRecord,
  type TaskStatus,
  type TaskSummary,
  type TasksReply,
  type TaskView,
} from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { type Caller, credentialName, type MeshSecrets, type OAuthCaller } from "../auth/credentials.ts";
import { mintViewerLink } from "../auth/viewer-link.ts";
import { askRoom, fetchRoom } from "../room-peers.ts";
import { presentTask, WATCH_LINK_TTL_MS, watchUrl } from "./task-view.ts";

/**
 * The orchestrator's operations, one function each, shared by the HTTP API and the MCP tools so
 * both behave the same. Each returns a value or a typed error; none throws for a bad request.
 */
/**
 * What an operation runs with: the rooms, the secrets, the caller (for the audit log), and `defer`,
 * which keeps work alive after the response (the audit record) without making the caller wait for it.
 */
export type MeshContext = {
  parties: Party.Context["parties"];
  secrets: MeshSecrets;
  origin: string;
  env: Record<string, unknown>;
  caller: Caller | OAuthCaller;
  defer: (work: Promise<unknown>) => void /** The request's W3C `traceparent` header (docs/traces.md). */;
  traceparent?: string | null;
};

/**
 * Records a state-changing call in the audit log (docs/http-api.md): who, what, on what, how it ended; never a secret.
 */
export function audited<T>(
  ctx: MeshContext,
  action: string,
  target: string | undefined,
  outcome: Outcome<T>,
): Outcome<T> {
  const role = ctx.caller.role;
  ctx.defer(
    recordAudit(ctx.parties, ctx.env, {
      role,
      credential: credentialName(ctx.caller),
      action,
      ...(target === undefined ? {} : { target: target.slice(0, 300) }),
      outcome: outcome.ok ? "ok" : outcome.error.code,
    }),
  );
  return outcome;
}

/**
 * A room's reply read with its schema: a reply of another shape is an `internal` error naming the field, never trusted.
 */
export function replyOf<T>(schema: z.ZodType<T>, room: string, value: unknown): Outcome<T> {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : fail("internal", `the ${room} room answered in an unknown shape (${describeIssues(parsed.error)})`);
}

export type Outcome<T> = Result<T>;

export const fail = <T>(code: ErrorBody["code"], message: string): Outcome<T> => ({
  ok: false,
  error: { code, message },
});

/** Calls a room with the orchestrator credential; its JSON reply, or its typed error. */
export function callRoom<T>(
  ctx: MeshContext,
  party: PartyName,
  roomId: string,
  query: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Outcome<T>> {
  return askRoom<T>(ctx.parties, party, roomId, ctx.secrets.orchestratorToken, `/${query}`, init);
}

/** A task id, or a name looked up in the directory. */
export async function resolveTaskRef(ctx: MeshContext, ref: string): Promise<Outcome<string>> {
  if (TaskId.safeParse(ref).success) return { ok: true, value: ref };
  if (!TaskName.safeParse(ref).success)
    return fail("bad_request", `'${ref}' is neither a task id (ULID) nor a task name`);
  const summary = await findTaskByName(ctx, ref);
  return summary.ok ? { ok: true, value: summary.value.task_id } : summary;
}

/** The directory's summary of the task that holds (or last held) a name. */
export function findTaskByName(ctx: MeshContext, name: string): Promise<Outcome<TaskSummary>> {
  return callRoom<TaskSummary>(ctx, PartyName.directory, SINGLETON_ROOM_ID, `?name=${encodeURIComponent(name)}`);
}

/** The task as tools and routes return it: with its diagram and a fresh watch link. */
export async function present(ctx: MeshContext, task: TaskRecord): Promise<TaskView> {
  const link = await mintViewerLink(
    { kind: "task", taskId: task.task_id },
    ctx.secrets.orchestratorToken,
    Date.now() + WATCH_LINK_TTL_MS,
  );
  return presentTask(task, watchUrl(ctx.origin, task.task_id, link));
}

export async function getTask(ctx: MeshContext, ref: string): Promise<Outcome<TaskView>> {
  const taskId = await resolveTaskRef(ctx, ref);
  if (!taskId.ok) return taskId;
  const task = await callRoom<TaskRecord>(ctx, PartyName.task, taskId.value, "");
  return task.ok ? { ok: true, value: await present(ctx, task.value) } : task;
}

export async function getLogs(
  ctx: MeshContext,
  ref: string,
  sinceSeq = 0,
  limit = MAX_LOG_READ,
): Promise<Outcome<LogsReply>> {
  const taskId = await resolveTaskRef(ctx, ref);
  if (!taskId.ok) return taskId;
  const query = new URLSearchParams({ view: "logs", since_seq: String(sinceSeq), limit: String(limit) });
  return callRoom(ctx, PartyName.task, taskId.value, `?${query}`);
}

/** What changed in a task: the task, lines from `sinceSeq` on, and the revision to wait past next. */
export type TaskChanges = { task: TaskRecord; lines: LogLine[]; revision: number };

/** Waits (long poll, at most `timeoutMs`) until the task changes past `revision` or has lines from `sinceSeq` on. */
export function waitForChanges(
  ctx: MeshContext,
  taskId: string,
  revision: number,
  sinceSeq: number,
  timeoutMs: number,
): Promise<Outcome<TaskChanges>> {
  const query = new URLSearchParams({
    view: "changes",
    revision: String(revision),
    since_seq: String(sinceSeq),
    timeout_ms: String(Math.round(timeoutMs)),
    limit: "200",
  });
  return callRoom(ctx, PartyName.task, taskId, `?${query}`);
}

/** Sends one command to the task a ref names; the task after it, as tools and routes show it. */
async function commandTask(ctx: MeshContext, ref: string, command: TaskCommand): Promise<Outcome<TaskView>> {
  const taskId = await resolveTaskRef(ctx, ref);
  if (!taskId.ok) return audited(ctx, command.type, ref, taskId);
  const task = await callRoom<TaskRecord>(ctx, PartyName.task, taskId.value, "", { method: "POST", body: command });
  return audited(ctx, command.type, taskId.value, task.ok ? { ok: true, value: await present(ctx, task.value) } : task);
}

export function cancelTask(ctx: MeshContext, ref: string, reason?: string): Promise<Outcome<TaskView>> {
  return commandTask(ctx, ref, { type: "task.cancel", ...(reason === undefined ? {} : { reason }) });
}

/** Merges the task's result (or attempt `attempt`) into the user's checkout, through the agent that ran it. */
export function applyTask(ctx: MeshContext, ref: string, attempt?: number): Promise<Outcome<TaskView>> {
  return commandTask(ctx, ref, { type: "task.apply", ...(attempt === undefined ? {} : { attempt }) });
}

/** The patch of the task's result (or of attempt `attempt`): a unified diff applicable with `git apply` at its base. */
export async function getDiff(ctx: MeshContext, ref: string, attempt?: number): Promise<Outcome<string>> {
  const taskId = await resolveTaskRef(ctx, ref);
  if (!taskId.ok) return taskId;
  const query = new URLSearchParams({ view: "diff", ...(attempt === undefined ? {} : { attempt: String(attempt) }) });
  try {
    const response = await fetchRoom(
      ctx.parties,
      PartyName.task,
      taskId.value,
      ctx.secrets.orchestratorToken,
      `/?${query}`,
    );
    const text = await response.text();
    if (response.ok) return { ok: true, value: text };
    const refusal = parseJson(ErrorReply, text);
    return refusal.ok
      ? { ok: false, error: refusal.value.error }
      : fail("internal", `the task room answered ${response.status}`);
  } catch (error) {
    return fail(
      "internal",
      `the task room could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** A person's decision on a task awaiting one. */
export function resolveTaskDecision(
  ctx: MeshContext,
  ref: string,
  decision: ResolveDecision,
): Promise<Outcome<TaskView>> {
  return commandTask(ctx, ref, { type: "task.resolve", ...decision });
}

export function listTasks(ctx: MeshContext, status?: TaskStatus, limit?: number): Promise<Outcome<TasksReply>> {
  const query = new URLSearchParams();
  if (status !== undefined) query.set("status", status);
  if (limit !== undefined) query.set("limit", String(limit));
  return callRoom(ctx, PartyName.directory, SINGLETON_ROOM_ID, `?${query}`);
}

/** The requests waiting for an agent, in the order the registry will serve them (`GET /api/queue`). */
export function getQueue(ctx: MeshContext): Promise<Outcome<QueueReply>> {
  return callRoom(ctx, PartyName.registry, SINGLETON_ROOM_ID, "?view=queue");
}

/**
 * Queued tasks in serving order (MCP `list_tasks` with status queued): those waiting for an agent by
 * their queue position, then those waiting for other tasks (no position yet), newest first.
 */
export async function listQueued(ctx: MeshContext, limit?: number): Promise<Outcome<TaskListReply>> {
  const [listed, queue] = await Promise.all([listTasks(ctx, "queued", 500), getQueue(ctx)]);
  if (!listed.ok) return listed;
  if (!queue.ok) return queue;
  const position = new Map<string, number>();
  for (const entry of queue.value.queue) if (!position.has(entry.task_id)) position.set(entry.task_id, entry.position);
  const tasks = listed.value.tasks.map((t) => ({
    ...t,
    ...(position.has(t.task_id) ? { position: position.get(t.task_id) } : {}),
  }));
  tasks.sort((a, b) => (a.position ?? Number.MAX_SAFE_INTEGER) - (b.position ?? Number.MAX_SAFE_INTEGER));
  return { ok: true, value: { tasks: tasks.slice(0, limit ?? 50) } };
}
