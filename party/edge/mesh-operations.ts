import type * as Party from "partykit/server";
import { monotonicFactory } from "ulid";
import type { z } from "zod";
import {
  AgentRevoked,
  type AgentSelector,
  type AgentsReply,
  type AuditRecord,
  type BudgetStatus,
  type CreateTaskRequest,
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
  type StageRecord,
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
import { mintViewerLink, type ViewerScope } from "../auth/viewer-link.ts";
import { askRoom, fetchRoom } from "../room-peers.ts";
import { queueTimeoutFrom } from "../task-room/queue-settings.ts";
import { routeOf } from "./task-routing.ts";
import { traceOfRequest } from "./task-trace-context.ts";
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
function audited<T>(ctx: MeshContext, action: string, target: string | undefined, outcome: Outcome<T>): Outcome<T> {
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

/** Revokes an agent (or forgets it: `DELETE /api/agents/<name>`), through the registry. */
export async function revokeAgent(ctx: MeshContext, name: string, forget: boolean): Promise<Outcome<AgentRevoked>> {
  const answer = await callRoom<unknown>(ctx, PartyName.registry, SINGLETON_ROOM_ID, "", {
    method: "POST",
    body: { type: forget ? "agent.forget" : "agent.revoke", name },
  });
  return audited(
    ctx,
    forget ? "agent.forget" : "agent.revoke",
    name,
    answer.ok ? replyOf(AgentRevoked, "registry", answer.value) : answer,
  );
}

/**
 * A room's reply read with its schema: a reply of another shape is an `internal` error naming the field, never trusted.
 */
function replyOf<T>(schema: z.ZodType<T>, room: string, value: unknown): Outcome<T> {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : fail("internal", `the ${room} room answered in an unknown shape (${describeIssues(parsed.error)})`);
}

/** The audit log's records from `since` (ms), oldest first. */
export function getAudit(
  ctx: MeshContext,
  since = 0,
  limit = MAX_LOG_READ,
): Promise<Outcome<{ records: AuditRecord[] }>> {
  return callRoom(
    ctx,
    PartyName.audit,
    SINGLETON_ROOM_ID,
    `?${new URLSearchParams({ since: String(since), limit: String(limit) })}`,
  );
}
export type Outcome<T> = Result<T>;

const fail = <T>(code: ErrorBody["code"], message: string): Outcome<T> => ({ ok: false, error: { code, message } });

/**
 * ULIDs from WebCrypto: ulid's own PRNG detection fails under workerd, and randomness is not
 * allowed at module load there, so the factory is made on first use.
 */
let ulidFactory: (() => string) | null = null;
function nextTaskId(): string {
  ulidFactory ??= monotonicFactory(() => (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) / 0x1_0000_0000);
  return ulidFactory();
}

/** Calls a room with the orchestrator credential; its JSON reply, or its typed error. */
function callRoom<T>(
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

export function listAgents(ctx: MeshContext): Promise<Outcome<AgentsReply>> {
  return callRoom(ctx, PartyName.registry, SINGLETON_ROOM_ID, "");
}

function selectorFor(agent: string | undefined, named: boolean): AgentSelector {
  if (agent === "mac" || agent === "vm") return { by: "kind", kind: agent };
  if (agent !== undefined) return { by: "name", name: agent };
  // dispatch (a named task) runs on a Mac agent when one is connected, as in the seeds.
  return named ? { by: "prefer", kind: "mac" } : { by: "any" };
}

/**
 * Creates a task (named when `name` is given, with dispatch's defaults) and dispatches its first attempt, or makes it
 * wait for the tasks it is `after`.
 */
export async function createTask(ctx: MeshContext, args: CreateTaskRequest): Promise<Outcome<TaskView>> {
  const named = args.name !== undefined;
  const routing = routeOf(ctx.env, args);
  if (!routing.ok) return routing;
  const after = args.after === undefined ? [] : await resolveAfter(ctx, args.after);
  if (!Array.isArray(after)) return after;
  const command: TaskCommand = {
    type: "task.create",
    task_id: nextTaskId(),
    ...(named ? { name: args.name } : {}),
    instruction: args.instruction ?? args.prompt ?? "",
    ...(args.cwd === undefined ? {} : { cwd: args.cwd }),
    tier: routing.value.tier,
    agent_selector: selectorFor(args.agent, named),
    ...(args.acceptance === undefined ? {} : { acceptance: args.acceptance }),
    ...(args.isolation === undefined ? {} : { isolation: args.isolation }),
    ...(args.base_ref === undefined ? {} : { base_ref: args.base_ref }),
    ...(args.repo === undefined ? {} : { repo: args.repo }),
    ...(args.deliver === undefined ? {} : { deliver: args.deliver }),
    ...(args.max_cost_usd === undefined ? {} : { max_cost_usd: args.max_cost_usd }),
    ...(args.priority === undefined ? {} : { priority: args.priority }),
    ...(after.length === 0 ? {} : { after }),
    queue_timeout_s: args.queue_timeout_s ?? queueTimeoutFrom(ctx.env),
    ...(args.kind === undefined ? {} : { kind: args.kind }),
    routing: routing.value,
    ...traceOfRequest(ctx.traceparent),
    ...(args.notify === undefined ? {} : { notify: args.notify }),
  };
  // One request: the task room owns the rest (the breaker, the name, the listing, the dispatch).
  const created = await callRoom<TaskRecord>(ctx, PartyName.task, command.task_id, "", {
    method: "POST",
    body: command,
  });
  return audited(
    ctx,
    "task.create",
    command.task_id,
    created.ok ? { ok: true, value: await present(ctx, created.value) } : created,
  );
}

/**
 * The ids of the tasks an `after` names (ids or names, each checked to exist), or the error naming the first unknown
 * one.
 */
async function resolveAfter(ctx: MeshContext, refs: readonly string[]): Promise<string[] | Outcome<never>> {
  const found = await Promise.all(
    [...new Set(refs)].map(async (ref) => {
      const id = await resolveTaskRef(ctx, ref);
      if (!id.ok) return { ref, id: null };
      const task = TaskId.safeParse(ref).success ? await callRoom<TaskRecord>(ctx, PartyName.task, id.value, "") : id;
      return { ref, id: task.ok ? id.value : null };
    }),
  );
  const unknown = found.find((f) => f.id === null);
  if (unknown !== undefined)
    return fail(
      "bad_request",
      `after: no task '${unknown.ref}'; name existing tasks by id or name (a plan's tasks by their key)`,
    );
  return [...new Set(found.map((f) => f.id as string))];
}

/** Today's and this month's spend, the limits, the breaker, spend by tier, agent and day. */
export function getBudget(ctx: MeshContext): Promise<Outcome<BudgetStatus>> {
  return callRoom(ctx, PartyName.budget, SINGLETON_ROOM_ID, "");
}

/** The stage ledger: every ended attempt with its model, tokens, cost, latency, agent, tier and outcome. */
export function getStages(ctx: MeshContext, since = 0, limit = 1000): Promise<Outcome<{ stages: StageRecord[] }>> {
  return callRoom(
    ctx,
    PartyName.budget,
    SINGLETON_ROOM_ID,
    `?${new URLSearchParams({ view: "stages", since: String(since), limit: String(limit) })}`,
  );
}

/**
 * A read-only link for one task (by id or name) or for the dashboard, or an operator link (the dashboard plus
 * decisions).
 */
export async function createLink(
  ctx: MeshContext,
  task: string | undefined,
  ttlS: number,
  operator = false,
): Promise<Outcome<{ token: string; url: string; scope: ViewerScope["kind"]; expires_at: number }>> {
  let scope: ViewerScope = operator ? { kind: "operator" } : { kind: "dashboard" };
  if (task !== undefined) {
    const taskId = await resolveTaskRef(ctx, task);
    if (!taskId.ok) return audited(ctx, "link.mint", task, taskId);
    // A link for a task that does not exist is refused (404), not minted: a link names a real task.
    const exists = await callRoom<TaskRecord>(ctx, PartyName.task, taskId.value, "");
    if (!exists.ok) return audited(ctx, "link.mint", task, exists);
    scope = { kind: "task", taskId: taskId.value };
  }
  const expiresAt = Date.now() + ttlS * 1000;
  const token = await mintViewerLink(scope, ctx.secrets.orchestratorToken, expiresAt);
  const url =
    scope.kind === "task"
      ? watchUrl(ctx.origin, scope.taskId, token)
      : `${ctx.origin}/#token=${encodeURIComponent(token)}`;
  return audited(ctx, "link.mint", scope.kind === "task" ? scope.taskId : scope.kind, {
    ok: true,
    value: { token, url, scope: scope.kind, expires_at: expiresAt },
  });
}
