import type * as Party from "partykit/server";
import { OAUTH_ACCESS_PREFIX } from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { bearerToken, type Defer, orchestratorContext } from "../edge/api-routes.ts";
import type { MeshContext } from "../edge/mesh-operations.ts";
import { refuseRequest } from "../http/refuse-request.ts";
import { errorResponse } from "../http/responses.ts";
import { admitRequest, requestLimitsFrom } from "../limits/request-limits.ts";
import { askGrants } from "./grants-client.ts";
import { resourceOf } from "./oauth-metadata.ts";
import { hashToken } from "./oauth-secrets.ts";
import { publicBase } from "./oauth-settings.ts";

/**
 * Who calls `/mcp` (docs/oauth.md): an OAuth access token is checked by the grants room against this
 * mesh's own resource (`{public}/mcp`: a token issued for another never opens this one), and every
 * call sees a revocation at once; any other token goes the way of the HTTP API.
 */
export async function mcpContext(
  request: Request,
  url: URL,
  lobby: Party.FetchLobby,
  defer: Defer,
): Promise<MeshContext | Response> {
  const token = bearerToken(request);
  if (token === null || !token.startsWith(OAUTH_ACCESS_PREFIX)) return orchestratorContext(request, url, lobby, defer);
  const secrets = readSecrets(lobby.env);
  if ("code" in secrets) return refuseRequest(request, errorResponse(secrets.code, secrets.message));
  const hash = await hashToken(token);
  const retryAfterS = admitRequest(`oauth-token:${hash.slice(0, 16)}`, Date.now(), requestLimitsFrom(lobby.env));
  if (retryAfterS !== null) {
    const refusal = errorResponse(
      "rate_limited",
      `too many requests with this token; wait ${retryAfterS} s (Retry-After)`,
    );
    refusal.headers.set("retry-after", String(retryAfterS));
    return refuseRequest(request, refusal);
  }
  const answer = await askGrants(lobby.parties, secrets.orchestratorToken, {
    type: "access.verify",
    access_hash: hash,
    resource: resourceOf(publicBase(lobby.env, url)),
  });
  if (!answer.ok)
    return refuseRequest(
      request,
      errorResponse(
        answer.error.error === "server_error" ? "internal" : "unauthorized",
        answer.error.error_description,
      ),
    );
  if (!("access" in answer))
    return refuseRequest(request, errorResponse("internal", "the grants room answered no access"));
  const { access } = answer;
  return {
    parties: lobby.parties,
    secrets,
    origin: url.origin,
    env: lobby.env,
    defer,
    caller: {
      role: "oauth_client",
      grantId: access.grant_id,
      clientId: access.client_id,
      clientName: access.client_name,
      scope: access.scope,
    },
    traceparent: request.headers.get("traceparent"),
  };
}
