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
