import { z } from "zod";

/**
 * The mesh as its own OAuth 2.1 authorization server for `/mcp` (docs/oauth.md): the shapes of every
 * request, answer and stored record of it.
 */

/** The two scopes: what the orchestrator token may do over MCP, and the read-only tools. */
export const OAuthScope = z.enum(["mesh:orchestrate", "mesh:read"]);
export type OAuthScope = z.infer<typeof OAuthScope>;
export const OAUTH_SCOPES: readonly OAuthScope[] = OAuthScope.options;

/** What the consent page shows and posts back (`POST /oauth/authorize`, form-encoded). */
export const ConsentView = z.object({
  client_name: z.string(),
  client_id: z.string(),
  /** The host of `redirect_uri`: where the code goes if the person approves. */
  redirect_host: z.string(),
  scope: z.array(OAuthScope),
  /** Set when the page is shown again, e.g. after a wrong credential. */
  error: z.string().optional(),
  /** The authorize parameters to post back as hidden inputs (beside `credential` and `decision`). */
  fields: z.record(z.string(), z.string()),
});
export type ConsentView = z.infer<typeof ConsentView>;

/** One grant as `GET /api/oauth/grants` lists it (times in ms since epoch). */
export const OAuthGrantSummary = z.object({
  id: z.string(),
  client_id: z.string(),
  client_name: z.string(),
  scope: z.array(OAuthScope),
  created_at: z.number(),
  last_used_at: z.number().optional(),
  redirect_host: z.string(),
});
export type OAuthGrantSummary = z.infer<typeof OAuthGrantSummary>;

/** `GET /api/oauth/grants`. */
export const OAuthGrantList = z.object({ grants: z.array(OAuthGrantSummary) });
export type OAuthGrantList = z.infer<typeof OAuthGrantList>;

/** `DELETE /api/oauth/grants/<id>` → 200 (404 `not_found` when no such live grant). */
export const OAuthGrantRevoked = z.object({ revoked: z.string() });
export type OAuthGrantRevoked = z.infer<typeof OAuthGrantRevoked>;

/** Prefixes of the mesh's own OAuth tokens: the edge tells them from static tokens without a lookup. */
export const OAUTH_ACCESS_PREFIX = "mat_";
export const OAUTH_REFRESH_PREFIX = "mrt_";
export const OAUTH_CODE_PREFIX = "mac_";
/** Registered (RFC 7591) client ids; a client id that is an URL names a client metadata document instead. */
export const OAUTH_CLIENT_PREFIX = "mcl_";

/** Error codes of the OAuth endpoints (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2). */
export const OAuthErrorCode = z.enum([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "unsupported_response_type",
  "invalid_scope",
  "invalid_target",
  "access_denied",
  "invalid_redirect_uri",
  "invalid_client_metadata",
  "invalid_token",
  "server_error",
]);
export type OAuthErrorCode = z.infer<typeof OAuthErrorCode>;

/** The JSON error body of every OAuth endpoint. */
export const OAuthErrorBody = z.object({ error: OAuthErrorCode, error_description: z.string() });
export type OAuthErrorBody = z.infer<typeof OAuthErrorBody>;

const Url = z
  .string()
  .max(2000)
  .refine((text) => URL.canParse(text), "must be an absolute URL");

/** Token endpoint authentication methods the mesh accepts (RFC 7591 §2). */
export const OAuthClientAuthMethod = z.enum(["none", "client_secret_post", "client_secret_basic"]);
export type OAuthClientAuthMethod = z.infer<typeof OAuthClientAuthMethod>;
export const CLIENT_SECRET_PREFIX = "mcs_";

/** What a client says about itself: the RFC 7591 request, or a client metadata document. */
export const OAuthClientMetadata = z.object({
  redirect_uris: z.array(Url).min(1).max(10),
  client_name: z.string().min(1).max(200).optional(),
  client_uri: Url.optional(),
  logo_uri: Url.optional(),
  /** Public clients only: the mesh keeps no client secrets. */
  token_endpoint_auth_method: z.string().max(100).optional(),
  grant_types: z.array(z.string().max(100)).max(10).optional(),
  response_types: z.array(z.string().max(100)).max(10).optional(),
  scope: z.string().max(500).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(200).optional(),
});
export type OAuthClientMetadata = z.infer<typeof OAuthClientMetadata>;

/** A client metadata document: its `client_id` must be the URL it was fetched from. */
export const ClientMetadataDocument = OAuthClientMetadata.extend({ client_id: Url });
export type ClientMetadataDocument = z.infer<typeof ClientMetadataDocument>;

/** A registered client, as the grants room keeps it. */
export const OAuthClientRecord = z.object({
  client_id: z.string(),
  client_name: z.string(),
  redirect_uris: z.array(z.string()),
  created_at: z.number(),
  /**
   * How it authenticates at the token endpoint: public (`none`, PKCE alone) or with the secret issued at registration.
   */
  auth_method: OAuthClientAuthMethod.default("none"),
  /** SHA-256 of the client secret, for the confidential ones (Claude.ai registers as `client_secret_post`). */
  secret_hash: z.string().optional(),
});
export type OAuthClientRecord = z.infer<typeof OAuthClientRecord>;

/** `POST /oauth/register` → 201. */
export const ClientRegistrationResponse = z.object({
  client_id: z.string(),
  client_id_issued_at: z.number(),
  client_name: z.string(),
  redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  response_types: z.array(z.string()),
  token_endpoint_auth_method: OAuthClientAuthMethod,
  client_secret: z.string().optional(),
  /** 0: the secret does not expire. */
  client_secret_expires_at: z.number().optional(),
  scope: z.string(),
});
export type ClientRegistrationResponse = z.infer<typeof ClientRegistrationResponse>;

/** `GET /oauth/authorize` query, and the same fields posted back by the consent page. */
export const AuthorizeParams = z.object({
  response_type: z.string().max(50),
  client_id: z.string().min(1).max(2000),
  redirect_uri: Url,
  code_challenge: z.string().max(200),
  code_challenge_method: z.string().max(20),
  state: z.string().max(2000).optional(),
  scope: z.string().max(500).optional(),
  resource: z.string().max(2000).optional(),
});
export type AuthorizeParams = z.infer<typeof AuthorizeParams>;

/** The consent page's own fields beside the authorize parameters. */
export const ConsentDecision = z.object({
  credential: z.string().max(2000),
  decision: z.enum(["approve", "deny"]),
});
export type ConsentDecision = z.infer<typeof ConsentDecision>;

/** `POST /oauth/token` (form-encoded). */
export const TokenRequest = z.discriminatedUnion("grant_type", [
  z.object({
    grant_type: z.literal("authorization_code"),
    code: z.string().min(1).max(200),
    redirect_uri: z.string().max(2000),
    client_id: z.string().min(1).max(2000),
    code_verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, "must be 43-128 characters of [A-Za-z0-9._~-]"),
    resource: z.string().max(2000).optional(),
  }),
  z.object({
    grant_type: z.literal("refresh_token"),
    refresh_token: z.string().min(1).max(200),
    client_id: z.string().min(1).max(2000),
    scope: z.string().max(500).optional(),
    resource: z.string().max(2000).optional(),
  }),
]);
export type TokenRequest = z.infer<typeof TokenRequest>;

/** `POST /oauth/token` → 200. */
export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal("Bearer"),
  expires_in: z.number().int().positive(),
  refresh_token: z.string(),
  scope: z.string(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** `POST /oauth/revoke` (RFC 7009, form-encoded). */
export const RevokeRequest = z.object({
  token: z.string().min(1).max(200),
  token_type_hint: z.string().max(50).optional(),
  client_id: z.string().max(2000).optional(),
});
export type RevokeRequest = z.infer<typeof RevokeRequest>;

/** A code, kept by its hash until a while after it expired (a replay is told from an unknown code). */
export const OAuthCodeRecord = z.object({
  code_hash: z.string(),
  client_id: z.string(),
  client_name: z.string(),
  redirect_uri: z.string(),
  code_challenge: z.string(),
  scope: z.array(OAuthScope),
  resource: z.string(),
  /** Who approved: `orchestrator` or `viewer:operator`. */
  approved_by: z.string(),
  created_at: z.number(),
  expires_at: z.number(),
  /** The grant its redemption made: set once used, so a second use revokes that grant. */
  grant_id: z.string().optional(),
  used: z.boolean(),
});
export type OAuthCodeRecord = z.infer<typeof OAuthCodeRecord>;

/** A live grant: one client's standing permission, with its current tokens as hashes only. */
export const OAuthGrantRecord = z.object({
  id: z.string(),
  client_id: z.string(),
  client_name: z.string(),
  redirect_uri: z.string(),
  scope: z.array(OAuthScope),
  /** The protected resource the tokens open (`{public}/mcp`). */
  resource: z.string(),
  approved_by: z.string(),
  created_at: z.number(),
  last_used_at: z.number().optional(),
  code_hash: z.string(),
  access_hash: z.string(),
  access_expires_at: z.number(),
  refresh_hash: z.string(),
  /** Refresh tokens already rotated away: presenting one again revokes the grant. */
  old_refresh_hashes: z.array(z.string()),
});
export type OAuthGrantRecord = z.infer<typeof OAuthGrantRecord>;

/**
 * Edge → grants room: one command per call (docs/oauth.md). Secrets arrive hashed, except fresh ones the room draws.
 */
export const OAuthCommand = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("client.register"),
    client_name: z.string(),
    redirect_uris: z.array(z.string()),
    auth_method: OAuthClientAuthMethod,
    secret_hash: z.string().optional(),
  }),
  z.object({ type: z.literal("client.get"), client_id: z.string() }),
  // What the consent step approved: the code record's own fields, before it has a hash, times or a grant.
  OAuthCodeRecord.omit({ code_hash: true, created_at: true, expires_at: true, grant_id: true, used: true }).extend({
    type: z.literal("code.issue"),
  }),
  z.object({
    type: z.literal("token.code"),
    code_hash: z.string(),
    client_id: z.string(),
    redirect_uri: z.string(),
    verifier_challenge: z.string(),
    resource: z.string(),
  }),
  z.object({
    type: z.literal("token.refresh"),
    refresh_hash: z.string(),
    client_id: z.string(),
    scope: z.array(OAuthScope).optional(),
    resource: z.string(),
  }),
  z.object({ type: z.literal("token.revoke"), token_hash: z.string() }),
  z.object({ type: z.literal("access.verify"), access_hash: z.string(), resource: z.string() }),
  z.object({ type: z.literal("grants.list") }),
  z.object({ type: z.literal("grant.delete"), id: z.string() }),
]);
export type OAuthCommand = z.infer<typeof OAuthCommand>;

/** What a verified access token opens: the grant behind it. */
export const OAuthAccess = z.object({
  grant_id: z.string(),
  client_id: z.string(),
  client_name: z.string(),
  scope: z.array(OAuthScope),
});
export type OAuthAccess = z.infer<typeof OAuthAccess>;

/** Grants room → edge: the answer to a command, or an OAuth error. */
export const OAuthReply = z.union([
  z.object({ ok: z.literal(true), client: OAuthClientRecord }),
  z.object({ ok: z.literal(true), code: z.string(), expires_at: z.number() }),
  z.object({ ok: z.literal(true), tokens: TokenResponse, grant_id: z.string(), client_name: z.string() }),
  z.object({ ok: z.literal(true), access: OAuthAccess }),
  z.object({ ok: z.literal(true), grants: z.array(OAuthGrantSummary) }),
  z.object({ ok: z.literal(true), revoked: z.array(z.string()) }),
  z.object({ ok: z.literal(false), error: OAuthErrorBody, revoked: z.array(z.string()).optional() }),
]);
export type OAuthReply = z.infer<typeof OAuthReply>;

/** RFC 9728 protected-resource metadata of `/mcp`. */
export const ProtectedResourceMetadata = z.object({
  resource: z.string(),
  authorization_servers: z.array(z.string()),
  scopes_supported: z.array(OAuthScope),
  bearer_methods_supported: z.array(z.literal("header")),
  resource_name: z.string().optional(),
});
export type ProtectedResourceMetadata = z.infer<typeof ProtectedResourceMetadata>;

/** RFC 8414 authorization-server metadata. */
export const AuthorizationServerMetadata = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  registration_endpoint: z.string(),
  revocation_endpoint: z.string(),
  response_types_supported: z.array(z.literal("code")),
  grant_types_supported: z.array(z.enum(["authorization_code", "refresh_token"])),
  code_challenge_methods_supported: z.array(z.literal("S256")),
  token_endpoint_auth_methods_supported: z.array(OAuthClientAuthMethod),
  revocation_endpoint_auth_methods_supported: z.array(OAuthClientAuthMethod),
  scopes_supported: z.array(OAuthScope),
  client_id_metadata_document_supported: z.literal(true),
});
export type AuthorizationServerMetadata = z.infer<typeof AuthorizationServerMetadata>;
