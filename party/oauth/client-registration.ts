import type * as Party from "partykit/server";
import {
  CLIENT_SECRET_PREFIX,
  type ClientRegistrationResponse,
  describeIssues,
  MAX_BODY_BYTES,
  OAuthClientAuthMethod,
  OAuthClientMetadata,
  type OAuthErrorCode,
} from "../../protocol/index.ts";
import { randomSecret } from "../auth/signing.ts";
import { askGrants } from "./grants-client.ts";
import { type Audit, oauthError, oauthFailure, oauthJson } from "./oauth-answers.ts";
import { hashToken } from "./oauth-secrets.ts";
import { checkRedirectUris } from "./redirect-uris.ts";

/**
 * `POST /oauth/register` (RFC 7591; docs/oauth.md). Public clients (`none`) are held by PKCE alone. A
 * client that asks for `client_secret_post` or `client_secret_basic` (Claude.ai's connectors do, and
 * fail against servers that refuse it) gets a secret too, kept as its hash; PKCE stays required.
 */
export async function register(
  request: Request,
  lobby: Party.FetchLobby,
  orchestratorToken: string,
  audit: Audit,
): Promise<Response> {
  const refuse = (error: OAuthErrorCode, description: string): Response => {
    audit({ role: "oauth_client", credential: "oauth:unregistered", action: "oauth.register", outcome: error });
    return oauthFailure(error, description);
  };
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES)
    return refuse("invalid_client_metadata", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(await request.text());
  } catch {
    return refuse("invalid_client_metadata", "the body is not JSON");
  }
  const parsed = OAuthClientMetadata.safeParse(data);
  if (!parsed.success) return refuse("invalid_client_metadata", describeIssues(parsed.error));
  const metadata = parsed.data;
  const method = OAuthClientAuthMethod.safeParse(metadata.token_endpoint_auth_method ?? "none");
  if (!method.success)
    return refuse(
      "invalid_client_metadata",
      `token_endpoint_auth_method: one of ${OAuthClientAuthMethod.options.join(", ")}`,
    );
  if (metadata.grant_types?.some((grant) => grant !== "authorization_code" && grant !== "refresh_token"))
    return refuse("invalid_client_metadata", "grant_types: only authorization_code and refresh_token");
  if (metadata.response_types?.some((type) => type !== "code"))
    return refuse("invalid_client_metadata", "response_types: only code");
  const uriProblem = checkRedirectUris(metadata.redirect_uris);
  if (uriProblem !== null) return refuse("invalid_redirect_uri", uriProblem);
  const secret = method.data === "none" ? undefined : `${CLIENT_SECRET_PREFIX}${randomSecret()}`;
  const name = metadata.client_name ?? new URL(metadata.redirect_uris[0] ?? "https://unnamed.invalid").host;
  const answer = await askGrants(lobby.parties, orchestratorToken, {
    type: "client.register",
    client_name: name,
    redirect_uris: metadata.redirect_uris,
    auth_method: method.data,
    ...(secret === undefined ? {} : { secret_hash: await hashToken(secret) }),
  });
  if (!answer.ok) return oauthError(answer.error);
  if (!("client" in answer)) return oauthFailure("server_error", "the grants room answered no client");
  const { client } = answer;
  const registered: ClientRegistrationResponse = {
    client_id: client.client_id,
    client_id_issued_at: Math.floor(client.created_at / 1000),
    client_name: client.client_name,
    redirect_uris: client.redirect_uris,
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: client.auth_method,
    scope: "mesh:orchestrate mesh:read",
    ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }),
  };
  return oauthJson(registered, 201);
}
