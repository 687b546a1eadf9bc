import type * as Party from "partykit/server";
import type { OAuthGrantList, OAuthGrantRevoked } from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { credentialName } from "../auth/credentials.ts";
import type { MeshContext } from "../edge/mesh-operations.ts";
import { errorResponse, json } from "../http/responses.ts";
import { askGrants } from "./grants-client.ts";

/**
 * `GET /api/oauth/grants` and `DELETE /api/oauth/grants/<id>` (docs/oauth.md): the dashboard's list of
 * remote clients and its revoke button. The caller was checked by the API (orchestrator or operator).
 */
export async function listGrants(ctx: MeshContext): Promise<Response> {
  const answer = await askGrants(ctx.parties, ctx.secrets.orchestratorToken, { type: "grants.list" });
  if (!answer.ok || !("grants" in answer))
    return errorResponse("internal", answer.ok ? "the grants room answered no list" : answer.error.error_description);
  return json({ grants: answer.grants } satisfies OAuthGrantList);
}

export async function deleteGrant(ctx: MeshContext, id: string, parties: Party.Context["parties"]): Promise<Response> {
  const answer = await askGrants(parties, ctx.secrets.orchestratorToken, { type: "grant.delete", id });
  const found = answer.ok && "revoked" in answer;
  ctx.defer(
    recordAudit(parties, ctx.env, {
      role: ctx.caller.role,
      credential: credentialName(ctx.caller),
      action: "oauth.grant.revoke",
      target: id.slice(0, 300),
      outcome: found ? "ok" : "not_found",
    }),
  );
  if (!answer.ok && answer.error.error === "server_error")
    return errorResponse("internal", answer.error.error_description);
  return found
    ? json({ revoked: id } satisfies OAuthGrantRevoked)
    : errorResponse("not_found", `no live grant ${id}; GET /api/oauth/grants lists them`);
}
