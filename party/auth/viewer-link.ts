import { sign, signedBy } from "./signing.ts";

/**
 * Read-only, expiring links for browsers: `v1.<scope>.<expires unix s>.<hmac>`, signed with the
 * orchestrator token, so rotating that token revokes every link. A scope is one task
 * (`task-<id>`, read-only), the dashboard (every task, the agents and the budget, read-only), or an
 * operator (the dashboard, plus a person's decisions at the human step).
 */
export type ViewerScope = { kind: "task"; taskId: string } | { kind: "dashboard" } | { kind: "operator" };

function scopeText(scope: ViewerScope): string {
  return scope.kind === "task" ? `task-${scope.taskId}` : scope.kind;
}

/** Mints a link token for `scope`, valid until `expiresAtMs`. */
export async function mintViewerLink(scope: ViewerScope, secret: string, expiresAtMs: number): Promise<string> {
  const payload = `v1.${scopeText(scope)}.${Math.floor(expiresAtMs / 1000)}`;
  return `${payload}.${await sign(payload, secret)}`;
}

/** The scope of a valid, unexpired link token; null otherwise. */
export async function verifyViewerLink(token: string, secret: string, now: number): Promise<ViewerScope | null> {
  const parts = token.split(".");
  if (parts.length !== 4 || parts[0] !== "v1") return null;
  const [, scope = "", expires = ""] = parts;
  if (!/^\d+$/.test(expires) || Number(expires) * 1000 <= now) return null;
  if (!(await signedBy(`v1.${scope}.${expires}`, parts[3] ?? "", secret))) return null;
  if (scope === "dashboard") return { kind: "dashboard" };
  if (scope === "operator") return { kind: "operator" };
  return scope.startsWith("task-") ? { kind: "task", taskId: scope.slice("task-".length) } : null;
}

/** Whether a viewer of `scope` may watch task `taskId`. */
export function scopeAllowsTask(scope: ViewerScope, taskId: string): boolean {
  return scope.kind !== "task" || scope.taskId === taskId;
}

/** Whether a viewer of `scope` may see the whole mesh (agents, budget): every scope but a task's. */
export function scopeSeesMesh(scope: ViewerScope): boolean {
  return scope.kind !== "task";
}
