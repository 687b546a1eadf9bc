import type * as Party from "partykit/server";
import {
  ApplyTaskRequest,
  CancelTaskRequest,
  CreateTaskRequest,
  httpStatusOf,
  LinkRequest,
  OAUTH_ACCESS_PREFIX,
  OAUTH_REFRESH_PREFIX,
  PlanRequest,
  ResolveDecision,
  TaskStatus,
} from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { credentialName, identify, readSecrets } from "../auth/credentials.ts";
import { scopeAllowsTask, type ViewerScope } from "../auth/viewer-link.ts";
import { readJsonBody } from "../http/read-body.ts";
import { refuseRequest } from "../http/refuse-request.ts";
import { errorResponse, json } from "../http/responses.ts";
import { admitRequest, requestLimitsFrom } from "../limits/request-limits.ts";
import { getNotifications } from "../notification-outbox/notifications-api.ts";
import { deleteGrant, listGrants } from "../oauth/grants-api.ts";
import { createLink, getAudit, getBudget, getStages, listAgents, revokeAgent } from "./mesh-admin-operations.ts";
import {
  applyTask,
  cancelTask,
  getDiff,
  getLogs,
  getQueue,
  getTask,
  listTasks,
  type MeshContext,
  type Outcome,
  resolveTaskDecision,
} from "./mesh-operations.ts";
import { createTask } from "./task-creation.ts";
import { createPlan } from "./task-plan.ts";
import { getTraceStatus } from "./trace-status.ts";

const isOAuthToken = (token: string | null): boolean =>
  token !== null && (token.startsWith(OAUTH_ACCESS_PREFIX) || token.startsWith(OAUTH_REFRESH_PREFIX));

/** The bearer token of a request's Authorization header. */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get("authorization");
  return header === null ? null : (/^Bearer\s+(\S+)$/i.exec(header.trim())?.[1] ?? null);
}

/**
 * Checks the orchestrator credential; the context for the operations, or the refusal. An operator
 * link may also make a person's decision (`allowOperator`): the person at the dashboard is the
 * ladder's human step. Dashboard and task watch links stay read-only.
 */
/** Keeps work alive after the response (the execution context's `waitUntil`). */
export type Defer = (work: Promise<unknown>) => void;

export async function orchestratorContext(
  request: Request,
  url: URL,
  lobby: Party.FetchLobby,
  defer: Defer,
  allowOperator = false,
  allowViewer: (scope: ViewerScope) => boolean = () => false,
): Promise<MeshContext | Response> {
  const secrets = readSecrets(lobby.env);
  if ("code" in secrets) return refuseRequest(request, errorResponse(secrets.code, secrets.message));
  const caller = await identify(bearerToken(request), secrets, Date.now());
  const now = Date.now();
  // Counted before the role check: a flood of forbidden calls costs its sender, not the mesh. Wrong tokens share one
  // bucket.
  const retryAfterS = admitRequest(
    caller === null ? "anonymous" : credentialName(caller),
    now,
    requestLimitsFrom(lobby.env),
  );
  if (retryAfterS !== null) {
    const refusal = errorResponse(
      "rate_limited",
      `too many requests from this credential; wait ${retryAfterS} s (Retry-After) and send fewer (MESH_RATE_PER_S, MESH_RATE_BURST)`,
    );
    refusal.headers.set("retry-after", String(retryAfterS));
    return refuseRequest(request, refusal);
  }
  if (caller === null && isOAuthToken(bearerToken(request))) {
    // An OAuth token is bound to /mcp (docs/oauth.md): the HTTP API never takes one.
    defer(
      recordAudit(lobby.parties, lobby.env, {
        role: "oauth_client",
        credential: "oauth:token",
        action: "oauth.access",
        target: url.pathname.slice(0, 300),
        outcome: "wrong_resource",
      }),
    );
    return refuseRequest(
      request,
      errorResponse(
        "unauthorized",
        "an OAuth access token opens /mcp only; the HTTP API takes the orchestrator token or a link",
      ),
    );
  }
  if (caller === null)
    return refuseRequest(
      request,
      errorResponse("unauthorized", "missing or wrong token; send 'Authorization: Bearer <MESH_ORCHESTRATOR_TOKEN>'"),
    );
  const operator = caller.role === "viewer" && caller.scope.kind === "operator";
  const reader = caller.role === "viewer" && allowViewer(caller.scope);
  if (caller.role !== "orchestrator" && !(allowOperator && operator) && !reader) {
    return refuseRequest(
      request,
      errorResponse("forbidden", `a ${caller.role} credential may not do this; it needs the orchestrator token`),
    );
  }
  return {
    parties: lobby.parties,
    secrets,
    origin: url.origin,
    env: lobby.env,
    caller,
    defer,
    traceparent: request.headers.get("traceparent"),
  };
}

function reply<T>(outcome: Outcome<T>, status = 200): Response {
  return outcome.ok ? json(outcome.value, status) : json({ error: outcome.error }, httpStatusOf[outcome.error.code]);
}

/** Reads a non-negative integer query parameter; undefined when absent, an error response when bad. */
function intParam(params: URLSearchParams, field: string): number | undefined | Response {
  const value = params.get(field);
  if (value === null || value === "") return undefined;
  return /^\d+$/.test(value) ? Number(value) : errorResponse("bad_request", `${field}: must be a non-negative integer`);
}

/**
 * The HTTP API (docs/http-api.md). Only the orchestrator credential, in the Authorization header, gets in (and links,
 * where a route says so).
 */
export async function routeApi(request: Request, url: URL, lobby: Party.FetchLobby, defer: Defer): Promise<Response> {
  const [, resource, ref, action, ...rest] = url.pathname.split("/").filter((part) => part.length > 0);
  const method = request.method;
  // A person with an operator link makes the human step's decisions, applies results and cancels tasks (the task page's
  // buttons).
  const isDecision =
    resource === "tasks" &&
    ref !== undefined &&
    (action === "resolve" || action === "apply" || action === "cancel") &&
    method === "POST";
  // A task's page reads its diff with the page's link: any link that may watch the task (read-only).
  const isDiffRead = resource === "tasks" && ref !== undefined && action === "diff" && method === "GET";
  // The dashboard's grants panel (docs/oauth.md): an operator lists remote clients and revokes them.
  const isGrants = resource === "oauth" && ref === "grants";
  // The dashboard's notifications panel (docs/notifications.md): an operator reads the deliveries.
  const isNotifications = resource === "notifications" && ref === undefined && method === "GET";
  const ctx = await orchestratorContext(
    request,
    url,
    lobby,
    defer,
    isDecision || isGrants || isNotifications,
    (scope) => isDiffRead && ref !== undefined && scopeAllowsTask(scope, ref),
  );
  if (ctx instanceof Response) return ctx;
  if (isGrants && action === undefined && method === "GET" && rest.length === 0) return listGrants(ctx);
  if (isGrants && action !== undefined && method === "DELETE" && rest.length === 0)
    return deleteGrant(ctx, action, lobby.parties);
  if (isDecision && ref !== undefined && action === "resolve") {
    const body = await readJsonBody(request, ResolveDecision);
    return body.ok
      ? reply(await resolveTaskDecision(ctx, ref, body.value))
      : errorResponse(body.error.code, body.error.message);
  }
  if (rest.length > 0) return notFound(url);
  if (resource === "tasks" && ref === undefined && method === "POST") {
    const body = await readJsonBody(request, CreateTaskRequest);
    return body.ok ? reply(await createTask(ctx, body.value), 201) : errorResponse(body.error.code, body.error.message);
  }
  if (resource === "tasks" && ref === undefined && method === "GET") {
    const statusParam = url.searchParams.get("status");
    const status = statusParam === null || statusParam === "" ? undefined : TaskStatus.safeParse(statusParam);
    if (status !== undefined && !status.success)
      return errorResponse("bad_request", `status: must be one of ${TaskStatus.options.join(", ")}`);
    const limit = intParam(url.searchParams, "limit");
    if (limit instanceof Response) return limit;
    return reply(await listTasks(ctx, status?.data, limit));
  }
  if (resource === "tasks" && ref !== undefined) {
    if (method === "GET" && action === undefined) return reply(await getTask(ctx, ref));
    if (method === "GET" && action === "logs") {
      const sinceSeq = intParam(url.searchParams, "since_seq");
      const limit = intParam(url.searchParams, "limit");
      if (sinceSeq instanceof Response) return sinceSeq;
      if (limit instanceof Response) return limit;
      return reply(await getLogs(ctx, ref, sinceSeq, limit));
    }
    if (method === "GET" && action === "diff") {
      const attempt = intParam(url.searchParams, "attempt");
      if (attempt instanceof Response) return attempt;
      const diff = await getDiff(ctx, ref, attempt);
      return diff.ok
        ? new Response(diff.value, { headers: { "content-type": "text/x-diff; charset=utf-8" } })
        : reply(diff);
    }
    if (method === "POST" && action === "apply") {
      const text = await request.clone().text();
      const body =
        text.trim() === "" ? { ok: true as const, value: {} } : await readJsonBody(request, ApplyTaskRequest);
      return body.ok
        ? reply(await applyTask(ctx, ref, body.value.attempt))
        : errorResponse(body.error.code, body.error.message);
    }
    if (method === "POST" && action === "cancel") {
      const text = await request.clone().text();
      const body =
        text.trim() === "" ? { ok: true as const, value: {} } : await readJsonBody(request, CancelTaskRequest);
      return body.ok
        ? reply(await cancelTask(ctx, ref, body.value.reason))
        : errorResponse(body.error.code, body.error.message);
    }
  }
  if (resource === "agents" && ref === undefined && method === "GET") return reply(await listAgents(ctx));
  // Revoke (docs/agent-identity.md): the agent is closed, its attempts retried elsewhere, and it is refused from now
  // on; DELETE forgets it.
  if (resource === "agents" && ref !== undefined && action === "revoke" && method === "POST")
    return reply(await revokeAgent(ctx, ref, false));
  if (resource === "agents" && ref !== undefined && action === undefined && method === "DELETE")
    return reply(await revokeAgent(ctx, ref, true));
  if (resource === "audit" && ref === undefined && method === "GET") {
    const since = intParam(url.searchParams, "since");
    const limit = intParam(url.searchParams, "limit");
    if (since instanceof Response) return since;
    if (limit instanceof Response) return limit;
    return reply(await getAudit(ctx, since, limit));
  }
  if (resource === "notifications" && ref === undefined && method === "GET") {
    const since = intParam(url.searchParams, "since");
    return since instanceof Response ? since : reply(await getNotifications(ctx, since));
  }
  if (resource === "budget" && ref === undefined && method === "GET") return reply(await getBudget(ctx));
  if (resource === "queue" && ref === undefined && method === "GET") return reply(await getQueue(ctx));
  if (resource === "traces" && ref === undefined && method === "GET") return reply(await getTraceStatus(ctx));
  if (resource === "plan" && ref === undefined && method === "POST") {
    const body = await readJsonBody(request, PlanRequest);
    return body.ok ? reply(await createPlan(ctx, body.value), 201) : errorResponse(body.error.code, body.error.message);
  }
  if (resource === "budget" && ref === "stages" && action === undefined && method === "GET") {
    const since = intParam(url.searchParams, "since");
    const limit = intParam(url.searchParams, "limit");
    if (since instanceof Response) return since;
    if (limit instanceof Response) return limit;
    return reply(await getStages(ctx, since, limit));
  }
  if (resource === "links" && ref === undefined && method === "POST") {
    const body = await readJsonBody(request, LinkRequest);
    if (body.ok && body.value.operator === true && body.value.task !== undefined)
      return errorResponse("bad_request", "operator: an operator link is for the dashboard; leave out task");
    return body.ok
      ? reply(await createLink(ctx, body.value.task, body.value.ttl_s ?? 24 * 3600, body.value.operator === true), 201)
      : errorResponse(body.error.code, body.error.message);
  }
  return notFound(url);
}

function notFound(url: URL): Response {
  return errorResponse(
    "not_found",
    `no route ${url.pathname}; the API serves /api/tasks, /api/tasks/<id or name>[/logs|/diff|/cancel|/resolve|/apply], /api/agents[/<name>/revoke], /api/budget[/stages], /api/queue, /api/plan, /api/links, /api/audit, /api/notifications, /api/traces, /api/oauth/grants[/<id>]`,
  );
}
