import type * as Party from "partykit/server";
import { describeIssues, RevokeRequest } from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { credentialName, identify, readSecrets } from "../auth/credentials.ts";
import { errorResponse, json } from "../http/responses.ts";
import { admitRequest, requestLimitsFrom } from "../limits/request-limits.ts";
import { type AuthorizeRefusal, checkAuthorize, consentView, redirectWith } from "./authorize-request.ts";
import { register } from "./client-registration.ts";
import { consentPageResponse } from "./consent-page.ts";
import { askGrants } from "./grants-client.ts";
import { type Audit, oauthError, oauthFailure, readForm } from "./oauth-answers.ts";
import {
  AUTHORIZATION_SERVER_PATH,
  authorizationServerMetadata,
  PROTECTED_RESOURCE_PATH,
  protectedResourceMetadata,
} from "./oauth-metadata.ts";
import { hashToken } from "./oauth-secrets.ts";
import { publicBase } from "./oauth-settings.ts";
import { token } from "./token-endpoint.ts";

type Defer = (work: Promise<unknown>) => void;

/**
 * Browser-based clients (MCP Inspector) call the metadata, registration, token and revocation endpoints cross-origin.
 */
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "content-type, authorization, mcp-protocol-version",
  "access-control-max-age": "600",
};

function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CORS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, headers });
}

/**
 * The OAuth routes (docs/oauth.md): the metadata under `/.well-known/` and the endpoints under `/oauth/`; null for any
 * other path.
 */
export async function routeOAuth(
  request: Request,
  url: URL,
  lobby: Party.FetchLobby,
  defer: Defer,
): Promise<Response | null> {
  const path = url.pathname;
  const base = publicBase(lobby.env, url);
  const isMetadata =
    path === PROTECTED_RESOURCE_PATH || path === `${PROTECTED_RESOURCE_PATH}/mcp` || path === AUTHORIZATION_SERVER_PATH;
  if (!isMetadata && !path.startsWith("/oauth/")) return null;
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
  if (isMetadata) {
    if (request.method !== "GET")
      return withCors(errorResponse("not_found", `${request.method} ${path} is not served; use GET`));
    return withCors(
      json(path === AUTHORIZATION_SERVER_PATH ? authorizationServerMetadata(base) : protectedResourceMetadata(base)),
    );
  }
  const secrets = readSecrets(lobby.env);
  if ("code" in secrets) return errorResponse(secrets.code, secrets.message);
  // The endpoints are open by design; one shared bucket bounds what a flood of them costs.
  const retryAfterS = admitRequest("oauth:endpoints", Date.now(), requestLimitsFrom(lobby.env));
  if (retryAfterS !== null)
    return new Response(
      JSON.stringify({
        error: "temporarily_unavailable",
        error_description: `too many OAuth requests; wait ${retryAfterS} s`,
      }),
      { status: 429, headers: { "retry-after": String(retryAfterS), "content-type": "application/json" } },
    );
  const audit: Audit = (record) => defer(recordAudit(lobby.parties, lobby.env, record));
  const endpoint = path.slice("/oauth/".length);
  if (endpoint === "register" && request.method === "POST")
    return withCors(await register(request, lobby, secrets.orchestratorToken, audit));
  if (endpoint === "authorize" && request.method === "GET")
    return authorizePage(Object.fromEntries(url.searchParams), base, lobby, secrets.orchestratorToken, audit);
  if (endpoint === "authorize" && request.method === "POST") {
    const form = await readForm(request);
    return form instanceof Response ? form : decide(form, base, lobby, secrets, audit);
  }
  if (endpoint === "token" && request.method === "POST")
    return withCors(await token(request, base, lobby, secrets.orchestratorToken, audit));
  if (endpoint === "revoke" && request.method === "POST")
    return withCors(await revoke(request, lobby, secrets.orchestratorToken));
  return errorResponse(
    "not_found",
    `no route ${request.method} ${path}; OAuth serves POST /oauth/register, GET and POST /oauth/authorize, POST /oauth/token, POST /oauth/revoke`,
  );
}

function refusalResponse(refusal: AuthorizeRefusal): Response {
  if (refusal.kind === "show") return oauthError(refusal.error);
  return redirectWith(refusal.redirect_uri, {
    error: refusal.error.error,
    error_description: refusal.error.error_description,
    state: refusal.state,
  });
}

async function authorizePage(
  params: Record<string, string>,
  base: string,
  lobby: Party.FetchLobby,
  orchestratorToken: string,
  audit: Audit,
): Promise<Response> {
  const checked = await checkAuthorize(params, base, lobby, orchestratorToken);
  if (!checked.ok) {
    audit({
      role: "oauth_client",
      credential: `oauth:${(params.client_id ?? "none").slice(0, 150)}`,
      action: "oauth.authorize",
      outcome: checked.refusal.error.error,
    });
    return refusalResponse(checked.refusal);
  }
  return consentPageResponse(consentView(checked.value));
}

/** The consent page posted back: approve with the orchestrator token or an operator link, or deny. */
async function decide(
  form: Record<string, string>,
  base: string,
  lobby: Party.FetchLobby,
  secrets: Exclude<ReturnType<typeof readSecrets>, { code: string }>,
  audit: Audit,
): Promise<Response> {
  const { credential, decision, ...params } = form;
  const checked = await checkAuthorize(params, base, lobby, secrets.orchestratorToken);
  const client = `oauth:${(params.client_id ?? "none").slice(0, 150)}`;
  if (!checked.ok) {
    audit({ role: "oauth_client", credential: client, action: "oauth.consent", outcome: checked.refusal.error.error });
    return refusalResponse(checked.refusal);
  }
  const request = checked.value;
  if (decision === "deny") {
    audit({
      role: "oauth_client",
      credential: client,
      action: "oauth.consent",
      target: request.client_id,
      outcome: "access_denied",
    });
    return redirectWith(request.redirect_uri, {
      error: "access_denied",
      error_description: "the person at the consent page denied access",
      state: request.state,
    });
  }
  if (decision !== "approve") return consentPageResponse(consentView(request, "choose Approve or Deny"), 400);
  const caller = await identify(credential ?? null, secrets, Date.now());
  const operator = caller?.role === "viewer" && caller.scope.kind === "operator";
  if (caller === null || (caller.role !== "orchestrator" && !operator)) {
    audit({
      role: "oauth_client",
      credential: client,
      action: "oauth.consent",
      target: request.client_id,
      outcome: "unauthorized",
    });
    return consentPageResponse(
      consentView(
        request,
        "That credential is not the orchestrator token nor an operator link's token; nothing was granted.",
      ),
      401,
    );
  }
  // A grant never exceeds who approved it: an operator link may hand out reading only.
  const scope = operator ? ["mesh:read" as const] : request.scope;
  const answer = await askGrants(lobby.parties, secrets.orchestratorToken, {
    type: "code.issue",
    client_id: request.client_id,
    client_name: request.client_name,
    redirect_uri: request.redirect_uri,
    code_challenge: request.code_challenge,
    scope,
    resource: request.resource,
    approved_by: credentialName(caller),
  });
  if (!answer.ok || !("code" in answer))
    return oauthFailure("server_error", answer.ok ? "the grants room issued no code" : answer.error.error_description);
  audit({
    role: caller.role === "orchestrator" ? "orchestrator" : "viewer",
    credential: credentialName(caller),
    action: "oauth.grant",
    target: `${request.client_id} ${scope.join(" ")}`,
    outcome: "ok",
  });
  return redirectWith(request.redirect_uri, { code: answer.code, state: request.state, iss: base });
}

/** RFC 7009: the token's whole grant ends; unknown tokens are answered 200 too. */
async function revoke(request: Request, lobby: Party.FetchLobby, orchestratorToken: string): Promise<Response> {
  const form = await readForm(request);
  if (form instanceof Response) return form;
  const parsed = RevokeRequest.safeParse(form);
  if (!parsed.success) return oauthFailure("invalid_request", describeIssues(parsed.error));
  const answer = await askGrants(lobby.parties, orchestratorToken, {
    type: "token.revoke",
    token_hash: await hashToken(parsed.data.token),
  });
  if (!answer.ok) return oauthError(answer.error);
  return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
}
