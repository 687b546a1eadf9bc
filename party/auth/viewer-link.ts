/**
 * Read-only, expiring links for browsers: `v1.<scope>.<expires unix s>.<hmac>`, signed with the
 * orchestrator token, so rotating that token revokes every link. A scope is one task
 * (`task-<id>`, read-only), the dashboard (every task, the agents and the budget, read-only), or an
 * operator (the dashboard, plus a person's decisions at the human step).
 */
export type ViewerScope = { kind: "task"; taskId: string } | { kind: "dashboard" } | { kind: "operator" };

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer): string {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function sign(payload: string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return base64url(await crypto.subtle.sign("HMAC", key, encoder.encode(payload)));
}

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
  const expected = await sign(`v1.${scope}.${expires}`, secret);
  if (expected.length !== parts[3]?.length) return null;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (parts[3] ?? "").charCodeAt(i);
  if (diff !== 0) return null;
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
