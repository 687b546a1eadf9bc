import type * as Party from "partykit/server";
import { GateCaller } from "../../protocol/gate-caller.ts";
import { refuseRequest } from "../http/refuse-request.ts";
import { errorResponse } from "../http/responses.ts";
import { partyRequest, standardRequest } from "../platform-request.ts";
import { type Caller, identify, presentedToken, readSecrets } from "./credentials.ts";

/** The header a gate sets after it checked the credential; a client's own copy is overwritten. */
export const ROLE_HEADER = "x-mesh-role";
/** The whole caller (an agent's name, credential hash or attempt), as JSON, set with ROLE_HEADER. */
export const CALLER_HEADER = "x-mesh-caller";

export type SocketRole = "agent" | "orchestrator" | "viewer";

/**
 * Checks a room's WebSocket upgrade before it happens: 401 for a missing or wrong credential,
 * 403 for a valid one of a role `allowed` refuses. On success the role travels in ROLE_HEADER.
 */
export async function gateSocket(
  request: Party.Request,
  lobby: Party.Lobby,
  allowed: (caller: Caller) => boolean,
): Promise<Party.Request | Response> {
  const secrets = readSecrets(lobby.env);
  if ("code" in secrets) return errorResponse(secrets.code, secrets.message);
  const caller = await identify(presentedToken(standardRequest(request)), secrets, Date.now());
  if (caller === null)
    return errorResponse(
      "unauthorized",
      "missing, wrong or expired token; pass ?token=<agent credential or enrollment token, orchestrator token or viewer link>",
    );
  if (!allowed(caller)) return errorResponse("forbidden", `${describeCaller(caller)} may not open this room`);
  const headers = new Headers(standardRequest(request).headers);
  headers.set(ROLE_HEADER, caller.role);
  headers.set(CALLER_HEADER, JSON.stringify(caller));
  return partyRequest(new Request(request.url, { headers }));
}

/**
 * Checks a room's HTTP request: only the orchestrator credential (rooms call each other with it
 * too). Called inside `onRequest`, so room-to-room calls are checked like outside ones. Null: go on.
 */
export async function gateRequest(request: Party.Request, env: Record<string, unknown>): Promise<Response | null> {
  const secrets = readSecrets(env);
  const raw = standardRequest(request);
  if ("code" in secrets) return refuseRequest(raw, errorResponse(secrets.code, secrets.message));
  const caller = await identify(presentedToken(raw, "http"), secrets, Date.now());
  if (caller === null)
    return refuseRequest(
      raw,
      errorResponse("unauthorized", "missing or wrong token; send 'Authorization: Bearer <orchestrator token>'"),
    );
  if (caller.role !== "orchestrator")
    return refuseRequest(
      raw,
      errorResponse("forbidden", `a ${caller.role} credential may not call this room over HTTP`),
    );
  return null;
}

function describeCaller(caller: Caller): string {
  if (caller.role !== "agent") return `a ${caller.role} credential`;
  if (caller.via === "enrollment")
    return `enrollment token "${caller.tokenName}" (it may only register an agent at /parties/registry/main)`;
  if (caller.via === "attempt") return `the attempt token of task ${caller.taskId} attempt ${caller.attempt}`;
  return `agent ${caller.agent}'s credential (a task room takes an attempt only with the attempt token of its task.assign)`;
}

/** The caller a gate recorded for this connection (null when none did). */
export function callerOf(context: Party.ConnectionContext): Caller | null {
  const text = context.request.headers.get(CALLER_HEADER);
  if (text === null) return null;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = GateCaller.safeParse(data);
  if (!parsed.success) return null;
  const caller: Caller = parsed.data;
  return caller;
}

/** The role a gate recorded for this connection. */
export function roleOf(context: Party.ConnectionContext): SocketRole | null {
  const role = context.request.headers.get(ROLE_HEADER);
  return role === "agent" || role === "orchestrator" || role === "viewer" ? role : null;
}
