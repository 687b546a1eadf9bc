// The mesh's operations outside one task (docs/http-api.md, docs/mcp-tools.md): agents (list, revoke),
// spend and the stage ledger, the audit log, and viewer links.
import {
  AgentRevoked,
  type AgentsReply,
  type AuditRecord,
  type BudgetStatus,
  MAX_LOG_READ,
  PartyName,
  SINGLETON_ROOM_ID,
  type StageRecord,
  type TaskRecord,
} from "../../protocol/index.ts";
import { mintViewerLink, type ViewerScope } from "../auth/viewer-link.ts";
import { audited, callRoom, type MeshContext, type Outcome, replyOf, resolveTaskRef } from "./mesh-operations.ts";
import { watchUrl } from "./task-view.ts";

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

export function listAgents(ctx: MeshContext): Promise<Outcome<AgentsReply>> {
  return callRoom(ctx, PartyName.registry, SINGLETON_ROOM_ID, "");
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
