import type * as Party from "partykit/server";
import { MAX_BODY_BYTES, OAuthClientMetadata, RevokeRequest, TokenRequest, describeIssues, type AuditAppend, type OAuthErrorBody, type OAuthErrorCode } from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { credentialName, identify, readSecrets } from "../auth/credentials.ts";
import { admitRequest, requestLimitsFrom } from "../limits/request-limits.ts";
import { errorResponse, json } from "../http/responses.ts";
import { checkAuthorize, consentView, parseScope, redirectWith, sameResource, type AuthorizeRefusal } from "./authorize-request.ts";
import { consentPageResponse } from "./consent-page.ts";
import { askGrants } from "./grants-client.ts";
import { AUTHORIZATION_SERVER_PATH, PROTECTED_RESOURCE_PATH, authorizationServerMetadata, protectedResourceMetadata, resourceOf } from "./oauth-metadata.ts";
import { hashToken, s256 } from "./oauth-secrets.ts";
import { publicBase } from "./oauth-settings.ts";
import { checkRedirectUris } from "./redirect-uris.ts";

type Defer = (work: Promise<unknown>) => void;

/** Browser-based clients (MCP Inspector) call the metadata, registration, token and revocation endpoints cross-origin. */
const CORS = { "access-control-allow-origin": "*", "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-allow-headers": "content-type, authorization, mcp-protocol-version", "access-control-max-age": "600" };

function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CORS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, headers });
}

/** An RFC 6749 §5.2 error: JSON, never cached; 401 for a client that is not known. */
export function oauthError(error: OAuthErrorBody, status = error.error === "invalid_client" ? 401 : error.error === "server_error" ? 500 : 400): Response {
  return new Response(JSON.stringify(error), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", pragma: "no-cache" } });
}

const oauthFailure = (error: OAuthErrorCode, description: string): Response => oauthError({ error, error_description: description });

/** A form-encoded body (RFC 6749 §3.2), bounded; a repeated parameter is refused. */
async function readForm(request: Request): Promise<Record<string, string> | Response> {
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) return oauthFailure("invalid_request", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return oauthFailure("invalid_request", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (name in form) return oauthFailure("invalid_request", `${name}: given twice`);
    if (value !== "") form[name] = value;
  }
  return form;
}

/** `/.well-known/…`, `/oauth/…` and `/api/oauth/…`'s neighbours: null when the path is none of them. */
export async function routeOAuth(request: Request, url: URL, lobby: Party.FetchLobby, defer: Defer): Promise<Response | null> {
  const path = url.pathname;
  const base = publicBase(lobby.env, url);
  const isMetadata = path === PROTECTED_RESOURCE_PATH || path === `${PROTECTED_RESOURCE_PATH}/mcp` || path === AUTHORIZATION_SERVER_PATH;
  if (!isMetadata && !path.startsWith("/oauth/")) return null;
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
  if (isMetadata) {
    if (request.method !== "GET") return withCors(errorResponse("not_found", `${request.method} ${path} is not served; use GET`));
    return withCors(json(path === AUTHORIZATION_SERVER_PATH ? authorizationServerMetadata(base) : protectedResourceMetadata(base)));
  }
  const secrets = readSecrets(lobby.env);
  if ("code" in secrets) return errorResponse(secrets.code, secrets.message);
  // The endpoints are open by design; one shared bucket bounds what a flood of them costs.
  const retryAfterS = admitRequest("oauth:endpoints", Date.now(), requestLimitsFrom(lobby.env));
  if (retryAfterS !== null) return new Response(JSON.stringify({ error: "temporarily_unavailable", error_description: `too many OAuth requests; wait ${retryAfterS} s` }), { status: 429, headers: { "retry-after": String(retryAfterS), "content-type": "application/json" } });
  const audit = (record: AuditAppend["record"]): void => defer(recordAudit(lobby.parties, lobby.env, record));
  const endpoint = path.slice("/oauth/".length);
  if (endpoint === "register" && request.method === "POST") return withCors(await register(request, lobby, secrets.orchestratorToken, audit));
  if (endpoint === "authorize" && request.method === "GET") return authorizePage(Object.fromEntries(url.searchParams), base, lobby, secrets.orchestratorToken, audit);
  if (endpoint === "authorize" && request.method === "POST") {
    const form = await readForm(request);
    return form instanceof Response ? form : decide(form, base, lobby, secrets, audit);
  }
  if (endpoint === "token" && request.method === "POST") return withCors(await token(request, base, lobby, secrets.orchestratorToken, audit));
  if (endpoint === "revoke" && request.method === "POST") return withCors(await revoke(request, lobby, secrets.orchestratorToken));
  return errorResponse("not_found", `no route ${request.method} ${path}; OAuth serves POST /oauth/register, GET and POST /oauth/authorize, POST /oauth/token, POST /oauth/revoke`);
}

/** RFC 7591: public clients only (no secret), redirect URIs https or loopback http. */
async function register(request: Request, lobby: Party.FetchLobby, orchestratorToken: string, audit: (record: AuditAppend["record"]) => void): Promise<Response> {
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) return oauthFailure("invalid_client_metadata", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(await request.text());
  } catch {
    return oauthFailure("invalid_client_metadata", "the body is not JSON");
  }
  const parsed = OAuthClientMetadata.safeParse(data);
  const refuse = (error: OAuthErrorCode, description: string): Response => {
    audit({ role: "oauth_client", credential: "oauth:unregistered", action: "oauth.register", outcome: error });
    return oauthFailure(error, description);
  };
  if (!parsed.success) return refuse("invalid_client_metadata", describeIssues(parsed.error));
  const metadata = parsed.data;
  if (metadata.token_endpoint_auth_method !== undefined && metadata.token_endpoint_auth_method !== "none") return refuse("invalid_client_metadata", "token_endpoint_auth_method: this mesh registers public clients only (none); use PKCE");
  if (metadata.grant_types?.some((grant) => grant !== "authorization_code" && grant !== "refresh_token")) return refuse("invalid_client_metadata", "grant_types: only authorization_code and refresh_token");
  if (metadata.response_types?.some((type) => type !== "code")) return refuse("invalid_client_metadata", "response_types: only code");
  const uriProblem = checkRedirectUris(metadata.redirect_uris);
  if (uriProblem !== null) return refuse("invalid_redirect_uri", uriProblem);
  const name = metadata.client_name ?? new URL(metadata.redirect_uris[0] ?? "https://unnamed.invalid").host;
  const answer = await askGrants(lobby.parties, orchestratorToken, { type: "client.register", client_name: name, redirect_uris: metadata.redirect_uris });
  if (!answer.ok) return oauthError(answer.error);
  if (!("client" in answer)) return oauthFailure("server_error", "the grants room answered no client");
  const client = answer.client;
  return new Response(JSON.stringify({ client_id: client.client_id, client_id_issued_at: Math.floor(client.created_at / 1000), client_name: client.client_name, redirect_uris: client.redirect_uris, grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none", scope: "mesh:orchestrate mesh:read" }), { status: 201, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}

function refusalResponse(refusal: AuthorizeRefusal): Response {
  if (refusal.kind === "show") return oauthError(refusal.error);
  return redirectWith(refusal.redirect_uri, { error: refusal.error.error, error_description: refusal.error.error_description, state: refusal.state });
}

async function authorizePage(params: Record<string, string>, base: string, lobby: Party.FetchLobby, orchestratorToken: string, audit: (record: AuditAppend["record"]) => void): Promise<Response> {
  const checked = await checkAuthorize(params, base, lobby, orchestratorToken);
  if (!checked.ok) {
    audit({ role: "oauth_client", credential: `oauth:${(params.client_id ?? "none").slice(0, 150)}`, action: "oauth.authorize", outcome: checked.refusal.error.error });
    return refusalResponse(checked.refusal);
  }
  return consentPageResponse(consentView(checked.value));
}

/** The consent page posted back: approve with the orchestrator token or an operator link, or deny. */
async function decide(form: Record<string, string>, base: string, lobby: Party.FetchLobby, secrets: Exclude<ReturnType<typeof readSecrets>, { code: string }>, audit: (record: AuditAppend["record"]) => void): Promise<Response> {
  const { credential, decision, ...params } = form;
  const checked = await checkAuthorize(params, base, lobby, secrets.orchestratorToken);
  const client = `oauth:${(params.client_id ?? "none").slice(0, 150)}`;
  if (!checked.ok) {
    audit({ role: "oauth_client", credential: client, action: "oauth.consent", outcome: checked.refusal.error.error });
    return refusalResponse(checked.refusal);
  }
  const request = checked.value;
  if (decision === "deny") {
    audit({ role: "oauth_client", credential: client, action: "oauth.consent", target: request.client_id, outcome: "access_denied" });
    return redirectWith(request.redirect_uri, { error: "access_denied", error_description: "the person at the consent page denied access", state: request.state });
  }
  if (decision !== "approve") return consentPageResponse(consentView(request, "choose Approve or Deny"), 400);
  const caller = await identify(credential ?? null, secrets, Date.now());
  const operator = caller?.role === "viewer" && caller.scope.kind === "operator";
  if (caller === null || (caller.role !== "orchestrator" && !operator)) {
    audit({ role: "oauth_client", credential: client, action: "oauth.consent", target: request.client_id, outcome: "unauthorized" });
    return consentPageResponse(consentView(request, "That credential is not the orchestrator token nor an operator link's token; nothing was granted."), 401);
  }
  // A grant never exceeds who approved it: an operator link may hand out reading only.
  const scope = operator ? ["mesh:read" as const] : request.scope;
  const answer = await askGrants(lobby.parties, secrets.orchestratorToken, { type: "code.issue", client_id: request.client_id, client_name: request.client_name, redirect_uri: request.redirect_uri, code_challenge: request.code_challenge, scope, resource: request.resource, approved_by: credentialName(caller) });
  if (!answer.ok || !("code" in answer)) return oauthFailure("server_error", answer.ok ? "the grants room issued no code" : answer.error.error_description);
  audit({ role: caller.role === "orchestrator" ? "orchestrator" : "viewer", credential: credentialName(caller), action: "oauth.grant", target: `${request.client_id} ${scope.join(" ")}`, outcome: "ok" });
  return redirectWith(request.redirect_uri, { code: answer.code, state: request.state, iss: base });
}

async function token(request: Request, base: string, lobby: Party.FetchLobby, orchestratorToken: string, audit: (record: AuditAppend["record"]) => void): Promise<Response> {
  const form = await readForm(request);
  if (form instanceof Response) return form;
  if (form.grant_type !== "authorization_code" && form.grant_type !== "refresh_token") {
    audit({ role: "oauth_client", credential: `oauth:${(form.client_id ?? "none").slice(0, 150)}`, action: "oauth.token", outcome: "unsupported_grant_type" });
    return oauthFailure(form.grant_type === undefined ? "invalid_request" : "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
  }
  const parsed = TokenRequest.safeParse(form);
  if (!parsed.success) return oauthFailure("invalid_request", describeIssues(parsed.error));
  const asked = parsed.data;
  const resource = resourceOf(base);
  const refuse = (error: OAuthErrorCode, description: string): Response => {
    audit({ role: "oauth_client", credential: `oauth:${asked.client_id.slice(0, 150)}`, action: asked.grant_type === "refresh_token" ? "oauth.refresh" : "oauth.token", outcome: error });
    return oauthFailure(error, description);
  };
  if (asked.resource !== undefined && !sameResource(asked.resource, resource)) return refuse("invalid_target", `resource: this authorization server issues tokens for ${resource} only`);
  if (!URL.canParse(asked.client_id)) {
    const known = await askGrants(lobby.parties, orchestratorToken, { type: "client.get", client_id: asked.client_id });
    if (!known.ok) return refuse(known.error.error, known.error.error_description);
  }
  let answer;
  if (asked.grant_type === "authorization_code") {
    const [code_hash, verifier_challenge] = await Promise.all([hashToken(asked.code), s256(asked.code_verifier)]);
    answer = await askGrants(lobby.parties, orchestratorToken, { type: "token.code", code_hash, client_id: asked.client_id, redirect_uri: asked.redirect_uri, verifier_challenge, resource });
  } else {
    const scope = asked.scope === undefined ? undefined : parseScope(asked.scope);
    if (scope === null) return refuse("invalid_scope", "scope: this mesh knows mesh:orchestrate and mesh:read");
    answer = await askGrants(lobby.parties, orchestratorToken, { type: "token.refresh", refresh_hash: await hashToken(asked.refresh_token), client_id: asked.client_id, resource, ...(scope === undefined ? {} : { scope }) });
  }
  if (!answer.ok) return oauthError(answer.error);
  if (!("tokens" in answer)) return oauthFailure("server_error", "the grants room issued no tokens");
  return new Response(JSON.stringify(answer.tokens), { status: 200, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", pragma: "no-cache" } });
}

/** RFC 7009: the token's whole grant ends; unknown tokens are answered 200 too. */
async function revoke(request: Request, lobby: Party.FetchLobby, orchestratorToken: string): Promise<Response> {
  const form = await readForm(request);
  if (form instanceof Response) return form;
  const parsed = RevokeRequest.safeParse(form);
  if (!parsed.success) return oauthFailure("invalid_request", describeIssues(parsed.error));
  const answer = await askGrants(lobby.parties, orchestratorToken, { type: "token.revoke", token_hash: await hashToken(parsed.data.token) });
  if (!answer.ok) return oauthError(answer.error);
  return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
}
