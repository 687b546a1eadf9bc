import { secretsProblem, type ErrorBody } from "../../protocol/index.ts";
import { verifyViewerLink, type ViewerScope } from "./viewer-link.ts";

/** Who is calling: the orchestrator (full control), an agent, or a read-only viewer link. */
export type Caller = { role: "orchestrator" } | { role: "agent" } | { role: "viewer"; scope: ViewerScope };

/** The two secrets the server reads from its environment (partykit vars). */
export type MeshSecrets = { orchestratorToken: string; agentToken: string };

/** Reads the secrets, or says which one is missing: the server refuses to run open. */
export function readSecrets(env: Record<string, unknown>): MeshSecrets | ErrorBody {
  const problem = secretsProblem(env);
  if (problem !== null) return { code: "server_misconfigured", message: `the server cannot serve: ${problem}, then restart it` };
  return { orchestratorToken: env.MESH_ORCHESTRATOR_TOKEN as string, agentToken: env.MESH_AGENT_TOKEN as string };
}

/**
 * The credential of a request: `Authorization: Bearer …`; for a WebSocket upgrade also `?token=`
 * (browsers cannot set headers there). Plain HTTP never reads it from the URL, where it would end up
 * in logs and histories (issue 14).
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
async function sameSecret(a: string, b: string): Promise<boolean> {
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

/** Who presented this token, or null for a missing or wrong one. */
export async function identify(token: string | null, secrets: MeshSecrets, now: number): Promise<Caller | null> {
  if (token === null || token.length === 0) return null;
  if (await sameSecret(token, secrets.orchestratorToken)) return { role: "orchestrator" };
  if (await sameSecret(token, secrets.agentToken)) return { role: "agent" };
  const scope = await verifyViewerLink(token, secrets.orchestratorToken, now);
  return scope === null ? null : { role: "viewer", scope };
}
