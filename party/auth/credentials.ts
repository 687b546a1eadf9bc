import {
  credentialAgentName,
  type EnrollmentToken,
  type ErrorBody,
  enrollmentTokens,
  type OAuthScope,
  secretsProblem,
} from "../../protocol/index.ts";
import { verifyAttemptToken } from "./attempt-token.ts";
import { sha256Hex } from "./signing.ts";
import { type ViewerScope, verifyViewerLink } from "./viewer-link.ts";

/**
 * Who is calling (docs/agent-identity.md; README "Security"):
 * - the orchestrator (full control);
 * - an agent, three ways: an enrollment token (may only register: `MESH_AGENT_TOKEN` is the one named
 *   `default`), its own credential (registers and heartbeats as the one agent it names; the registry
 *   checks the hash), or an attempt token (one attempt of one task, for the agent it was handed to);
 * - a read-only (or operator) viewer link.
 */
export type Caller =
  | { role: "orchestrator" }
  | { role: "agent"; via: "enrollment"; tokenName: string }
  | { role: "agent"; via: "credential"; agent: string; credentialHash: string }
  | { role: "agent"; via: "attempt"; agent: string; taskId: string; attempt: number }
  | { role: "viewer"; scope: ViewerScope };

/**
 * A remote MCP client holding an OAuth access token of the mesh's own (docs/oauth.md): it opens `/mcp` only, never a
 * room.
 */
export type OAuthCaller = {
  role: "oauth_client";
  grantId: string;
  clientId: string;
  clientName: string;
  scope: readonly OAuthScope[];
};

/** The server's secrets (partykit vars): the orchestrator token and every enrollment token. */
export type MeshSecrets = { orchestratorToken: string; enrollment: readonly EnrollmentToken[] };

/** Reads the secrets, or says which one is missing: the server refuses to run open. */
export function readSecrets(env: Record<string, unknown>): MeshSecrets | ErrorBody {
  const problem = secretsProblem(env);
  const enrollment = enrollmentTokens(env);
  if (problem !== null || !enrollment.ok)
    return {
      code: "server_misconfigured",
      message: `the server cannot serve: ${problem ?? "bad enrollment tokens"}, then restart it`,
    };
  return { orchestratorToken: env.MESH_ORCHESTRATOR_TOKEN as string, enrollment: enrollment.value };
}

/**
 * The credential of a request: `Authorization: Bearer …`; for a WebSocket upgrade also `?token=`
 * (browsers cannot set headers there). Plain HTTP never reads it from the URL, where it would end up
 * in logs and histories (docs/http-api.md).
 */
export function presentedToken(request: Request, kind: "socket" | "http" = "socket"): string | null {
  const header = request.headers.get("authorization");
  if (header !== null) {
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    return match?.[1] ?? null;
  }
  return kind === "socket" ? new URL(request.url).searchParams.get("token") : null;
}

const encoder = new TextEncoder();

/** Compares secrets in constant time: both sides are hashed first, so length leaks nothing either. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * Who presented this token, or null for a missing, wrong or expired one. An agent credential is only
 * shaped here (its name and hash): the registry, which holds the hashes, accepts or refuses it.
 */
export async function identify(token: string | null, secrets: MeshSecrets, now: number): Promise<Caller | null> {
  if (token === null || token.length === 0) return null;
  if (await sameSecret(token, secrets.orchestratorToken)) return { role: "orchestrator" };
  const agent = credentialAgentName(token);
  if (agent !== null) return { role: "agent", via: "credential", agent, credentialHash: await sha256Hex(token) };
  if (token.startsWith("a1.")) {
    const scope = await verifyAttemptToken(token, secrets.orchestratorToken, now);
    return scope === null ? null : { role: "agent", via: "attempt", ...scope };
  }
  if (token.startsWith("v1.")) {
    const scope = await verifyViewerLink(token, secrets.orchestratorToken, now);
    return scope === null ? null : { role: "viewer", scope };
  }
  for (const enrollment of secrets.enrollment) {
    if (!(await sameSecret(token, enrollment.token))) continue;
    // An expired enrollment token enrolls nothing; agents it enrolled keep their own credentials.
    return enrollment.expires !== undefined && Date.parse(enrollment.expires) <= now
      ? null
      : { role: "agent", via: "enrollment", tokenName: enrollment.name };
  }
  return null;
}

/** A caller's credential name for the audit log: never the secret. */
export function credentialName(caller: Caller | OAuthCaller): string {
  switch (caller.role) {
    case "orchestrator":
      return "orchestrator";
    case "viewer":
      return caller.scope.kind === "task" ? `viewer:task-${caller.scope.taskId}` : `viewer:${caller.scope.kind}`;
    case "agent":
      return caller.via === "enrollment" ? `enrollment:${caller.tokenName}` : `agent:${caller.agent}`;
    case "oauth_client":
      return `oauth:${caller.clientId}`.slice(0, 200);
  }
}
