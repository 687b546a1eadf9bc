import type * as Party from "partykit/server";
import { describeIssues, type OAuthErrorCode, type OAuthReply, TokenRequest } from "../../protocol/index.ts";
import { parseScope, sameResource } from "./authorize-request.ts";
import { authenticateClient } from "./client-authentication.ts";
import { askGrants } from "./grants-client.ts";
import { type Audit, oauthError, oauthFailure, oauthJson, readForm } from "./oauth-answers.ts";
import { resourceOf } from "./oauth-metadata.ts";
import { hashToken, s256 } from "./oauth-secrets.ts";

/**
 * `POST /oauth/token` (docs/oauth.md): the code with its PKCE verifier, or a refresh token, for a new
 * token pair. The grants room decides; this parses, authenticates the client, and hashes what it sends.
 */
export async function token(
  request: Request,
  base: string,
  lobby: Party.FetchLobby,
  orchestratorToken: string,
  audit: Audit,
): Promise<Response> {
  const basic = request.headers.get("authorization");
  const form = await readForm(request);
  if (form instanceof Response) return form;
  const client = `oauth:${(form.client_id ?? "none").slice(0, 150)}`;
  if (form.grant_type !== "authorization_code" && form.grant_type !== "refresh_token") {
    audit({ role: "oauth_client", credential: client, action: "oauth.token", outcome: "unsupported_grant_type" });
    return oauthFailure(
      form.grant_type === undefined ? "invalid_request" : "unsupported_grant_type",
      "grant_type must be authorization_code or refresh_token",
    );
  }
  const action = form.grant_type === "refresh_token" ? "oauth.refresh" : "oauth.token";
  const refuse = (error: OAuthErrorCode, description: string, who = client): Response => {
    audit({ role: "oauth_client", credential: who, action, outcome: error });
    return oauthFailure(error, description);
  };
  const authenticated = await authenticateClient(form, basic, lobby, orchestratorToken);
  if (!authenticated.ok) return refuse(authenticated.error.error, authenticated.error.error_description);
  const parsed = TokenRequest.safeParse({ ...form, client_id: authenticated.value });
  if (!parsed.success) return refuse("invalid_request", describeIssues(parsed.error));
  const asked = parsed.data;
  const resource = resourceOf(base);
  if (asked.resource !== undefined && !sameResource(asked.resource, resource))
    return refuse("invalid_target", `resource: this authorization server issues tokens for ${resource} only`);
  let answer: OAuthReply;
  if (asked.grant_type === "authorization_code") {
    const [code_hash, verifier_challenge] = await Promise.all([hashToken(asked.code), s256(asked.code_verifier)]);
    answer = await askGrants(lobby.parties, orchestratorToken, {
      type: "token.code",
      code_hash,
      client_id: asked.client_id,
      redirect_uri: asked.redirect_uri,
      verifier_challenge,
      resource,
    });
  } else {
    const scope = asked.scope === undefined ? undefined : parseScope(asked.scope, "strict");
    if (scope === null) return refuse("invalid_scope", "scope: this mesh knows mesh:orchestrate and mesh:read");
    answer = await askGrants(lobby.parties, orchestratorToken, {
      type: "token.refresh",
      refresh_hash: await hashToken(asked.refresh_token),
      client_id: asked.client_id,
      resource,
      ...(scope === undefined ? {} : { scope }),
    });
  }
  if (!answer.ok) return oauthError(answer.error);
  if (!("tokens" in answer)) return oauthFailure("server_error", "the grants room issued no tokens");
  return oauthJson(answer.tokens);
}
