import type * as Party from "partykit/server";
import { monotonicFactory } from "ulid";
import { z } from "zod";
import {
  CreateTaskRequest,
  DISPATCH_DEFAULT_TIER,
  EXECUTE_DEFAULT_TIER,
  ExecutorTier,
  TaskId,
  TaskName,
  resolveExecutorTier,
  type AgentSelector,
  type TaskCommand,
  type TaskRecord,
  type TaskSummary,
} from "../../protocol/index.ts";
import { identify, readSecrets, type MeshSecrets } from "../auth/credentials.ts";
import { mintViewerLink, type ViewerScope } from "../auth/viewer-link.ts";
import { readJsonBody } from "../http/read-body.ts";
import { errorResponse, json } from "../http/responses.ts";
import { DIRECTORY_ROOM_ID, REGISTRY_ROOM_ID } from "../room-peers.ts";
import { WATCH_LINK_TTL_MS, presentTask, watchUrl } from "./task-view.ts";

/**
 * ULIDs from WebCrypto: ulid's own PRNG detection fails under workerd, and randomness is not
 * allowed at module load there, so the factory is made on first use.
 */
let ulidFactory: (() => string) | null = null;
function nextTaskId(): string {
  ulidFactory ??= monotonicFactory(() => (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) / 0x1_0000_0000);
  return ulidFactory();
}

/** `POST /api/links`: a read-only link for one task or for the dashboard. */
const LinkRequest = z
  .object({
    /** A task id or name; omit for a dashboard link. */
    task: z.string().min(1).optional(),
    /** Lifetime in seconds (default one day, at most 30 days). */
    ttl_s: z.number().int().positive().max(30 * 24 * 3600).optional(),
  })
  .strict();

const CancelRequest = z.object({ reason: z.string().max(500).optional() }).strict();

type Api = { lobby: Party.FetchLobby; secrets: MeshSecrets; origin: string };

/** The HTTP API of INTERFACES.md. Only the orchestrator credential, in the Authorization header, gets in. */
export async function routeApi(request: Request, url: URL, lobby: Party.FetchLobby): Promise<Response> {
  const secrets = readSecrets(lobby.env);
  if ("code" in secrets) return errorResponse(secrets.code, secrets.message);
  const header = request.headers.get("authorization");
  const token = header === null ? null : (/^Bearer\s+(\S+)$/i.exec(header.trim())?.[1] ?? null);
  const caller = await identify(token, secrets, Date.now());
  if (caller === null) return errorResponse("unauthorized", "missing or wrong token; send 'Authorization: Bearer <MESH_ORCHESTRATOR_TOKEN>'");
  if (caller.role !== "orchestrator") return errorResponse("forbidden", `a ${caller.role} credential may not use the HTTP API; it needs the orchestrator token`);

  const api: Api = { lobby, secrets, origin: url.origin };
  const [, resource, ref, action, ...rest] = url.pathname.split("/").filter((part) => part.length > 0);
  const method = request.method;
  if (rest.length > 0) return notFound(url);
  if (resource === "tasks" && ref === undefined) {
    if (method === "POST") return createTask(api, request);
    if (method === "GET") return callRoom(api, "directory", DIRECTORY_ROOM_ID, `?${url.searchParams}`);
  }
  if (resource === "tasks" && ref !== undefined) {
    const taskId = await resolveTask(api, ref);
    if (taskId instanceof Response) return taskId;
    if (method === "GET" && action === undefined) return readTask(api, taskId);
    if (method === "GET" && action === "logs") return readLogs(api, taskId, url.searchParams);
    if (method === "POST" && action === "cancel") return cancel(api, taskId, request);
  }
  if (resource === "agents" && ref === undefined && method === "GET") return callRoom(api, "registry", REGISTRY_ROOM_ID, "");
  if (resource === "links" && ref === undefined && method === "POST") return createLink(api, request);
  return notFound(url);
}

function notFound(url: URL): Response {
  return errorResponse("not_found", `no route ${url.pathname}; the API serves /api/tasks, /api/tasks/<id or name>[/logs|/cancel], /api/agents, /api/links`);
}

function callRoom(api: Api, party: string, roomId: string, query: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  const target = api.lobby.parties[party];
  if (target === undefined) return Promise.resolve(errorResponse("internal", `party '${party}' is missing from partykit.json`));
  // The stub drops `init` for an empty path, and wants paths to start with "/".
  return target.get(roomId).fetch(`/${query}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${api.secrets.orchestratorToken}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** A task id, or a name looked up in the directory. */
async function resolveTask(api: Api, ref: string): Promise<string | Response> {
  if (TaskId.safeParse(ref).success) return ref;
  if (!TaskName.safeParse(ref).success) return errorResponse("bad_request", `'${ref}' is neither a task id (ULID) nor a task name`);
  const response = await callRoom(api, "directory", DIRECTORY_ROOM_ID, `?name=${encodeURIComponent(ref)}`);
  if (!response.ok) return response;
  return ((await response.json()) as TaskSummary).task_id;
}

async function present(api: Api, task: TaskRecord, status = 200): Promise<Response> {
  const link = await mintViewerLink({ kind: "task", taskId: task.task_id }, api.secrets.orchestratorToken, Date.now() + WATCH_LINK_TTL_MS);
  return json(presentTask(task, watchUrl(api.origin, task.task_id, link)), status);
}

async function readTask(api: Api, taskId: string): Promise<Response> {
  const response = await callRoom(api, "task", taskId, "");
  return response.ok ? present(api, (await response.json()) as TaskRecord) : response;
}

async function readLogs(api: Api, taskId: string, params: URLSearchParams): Promise<Response> {
  const query = new URLSearchParams({ view: "logs" });
  for (const field of ["since_seq", "limit"] as const) {
    const value = params.get(field);
    if (value === null) continue;
    if (!/^\d+$/.test(value)) return errorResponse("bad_request", `${field}: must be a non-negative integer`);
    query.set(field, value);
  }
  return callRoom(api, "task", taskId, `?${query}`);
}

async function cancel(api: Api, taskId: string, request: Request): Promise<Response> {
  const text = await request.clone().text();
  const body = text.trim() === "" ? { ok: true as const, body: {} } : await readJsonBody(request, CancelRequest);
  if (!body.ok) return errorResponse(body.error.code, body.error.message);
  const command: TaskCommand = { type: "task.cancel", ...body.body };
  const response = await callRoom(api, "task", taskId, "", { method: "POST", body: command });
  return response.ok ? present(api, (await response.json()) as TaskRecord) : response;
}

function selectorFor(agent: string | undefined, named: boolean): AgentSelector {
  if (agent === "mac" || agent === "vm") return { by: "kind", kind: agent };
  if (agent !== undefined) return { by: "name", name: agent };
  // dispatch (a named task) runs on a Mac agent when one is connected, as in the seeds.
  return named ? { by: "prefer", kind: "mac" } : { by: "any" };
}

async function createTask(api: Api, request: Request): Promise<Response> {
  const body = await readJsonBody(request, CreateTaskRequest);
  if (!body.ok) return errorResponse(body.error.code, body.error.message);
  const args = body.body;
  const named = args.name !== undefined;
  const tier = args.executor === undefined ? (named ? DISPATCH_DEFAULT_TIER : EXECUTE_DEFAULT_TIER) : resolveExecutorTier(args.executor);
  if (tier === null) {
    return errorResponse("bad_request", `executor: '${args.executor}' is neither a tier (${ExecutorTier.options.join(", ")}) nor a CLI (claude, codex, gemini, opencode)`);
  }
  const taskId = nextTaskId();
  const instruction = args.instruction ?? args.prompt ?? "";
  const now = Date.now();
  const summary: TaskSummary = { task_id: taskId, ...(named ? { name: args.name } : {}), status: "queued", tier, instruction: instruction.slice(0, 200), created_at: now, updated_at: now };
  const registered = await callRoom(api, "directory", DIRECTORY_ROOM_ID, "", { method: "POST", body: { type: "task.register", summary } });
  if (!registered.ok) return registered;
  const command: TaskCommand = {
    type: "task.create",
    task_id: taskId,
    ...(named ? { name: args.name } : {}),
    instruction,
    ...(args.cwd === undefined ? {} : { cwd: args.cwd }),
    tier,
    agent_selector: selectorFor(args.agent, named),
    ...(args.acceptance === undefined ? {} : { acceptance: args.acceptance }),
  };
  const created = await callRoom(api, "task", taskId, "", { method: "POST", body: command });
  if (!created.ok) {
    await callRoom(api, "directory", DIRECTORY_ROOM_ID, "", { method: "POST", body: { type: "task.indexed", summary: { ...summary, status: "failed" } } });
    return created;
  }
  return present(api, (await created.json()) as TaskRecord, 201);
}

async function createLink(api: Api, request: Request): Promise<Response> {
  const body = await readJsonBody(request, LinkRequest);
  if (!body.ok) return errorResponse(body.error.code, body.error.message);
  let scope: ViewerScope = { kind: "dashboard" };
  if (body.body.task !== undefined) {
    const taskId = await resolveTask(api, body.body.task);
    if (taskId instanceof Response) return taskId;
    scope = { kind: "task", taskId };
  }
  const expiresAt = Date.now() + (body.body.ttl_s ?? 24 * 3600) * 1000;
  const token = await mintViewerLink(scope, api.secrets.orchestratorToken, expiresAt);
  const url = scope.kind === "task" ? watchUrl(api.origin, scope.taskId, token) : `${api.origin}/#token=${encodeURIComponent(token)}`;
  return json({ token, url, scope: scope.kind, expires_at: expiresAt }, 201);
}
