import type * as Party from "partykit/server";
import {
  AuthorizeParams,
  type ConsentView,
  OAUTH_CLIENT_PREFIX,
  type OAuthErrorBody,
  type OAuthErrorCode,
  OAuthScope,
} from "../../protocol/index.ts";
import { fetchClientDocument } from "./client-metadata-fetch.ts";
import { askGrants } from "./grants-client.ts";
import { resourceOf } from "./oauth-metadata.ts";
import { oauthDev } from "./oauth-settings.ts";
import { checkRedirectUris } from "./redirect-uris.ts";

/**
 * Checks an authorization request (`GET /oauth/authorize`, and again when the consent page posts it
 * back: the posted fields are the client's, not ours). RFC 6749 §4.1.2.1: while the client or its
 * redirect URI is in doubt the error is shown here and never sent to that URI; after, errors go back
 * to the client on its redirect URI.
 */
export type CheckedAuthorize = {
  client_id: string;
  client_name: string;
  redirect_uri: string;
  code_challenge: string;
  state: string | undefined;
  scope: OAuthScope[];
  resource: string;
  /** What the consent page posts back. */
  fields: Record<string, string>;
};

export type AuthorizeRefusal =
  /** Shown to the person (400 JSON): the redirect URI cannot be trusted. */
  | { kind: "show"; error: OAuthErrorBody }
  /** Sent back to the client's redirect URI with `error` and `state`. */
  | { kind: "redirect"; redirect_uri: string; state: string | undefined; error: OAuthErrorBody };

const body = (error: OAuthErrorCode, error_description: string): OAuthErrorBody => ({ error, error_description });

/**
 * The scope asked, as the mesh's scopes. Unknown words are ignored (RFC 6749 §3.3 lets the server
 * narrow a request; Claude.ai has been seen asking for a scope of its own), and a request naming none
 * of ours asks for `mesh:orchestrate`: the consent page shows what is granted. `strict` (a refresh,
 * which may only narrow) refuses unknown words instead.
 */
export function parseScope(text: string | undefined, mode: "lenient" | "strict" = "lenient"): OAuthScope[] | null {
  const words = (text ?? "").split(" ").filter((word) => word.length > 0);
  const scopes: OAuthScope[] = [];
  for (const word of words) {
    const parsed = OAuthScope.safeParse(word);
    if (!parsed.success && mode === "strict") return null;
    if (parsed.success && !scopes.includes(parsed.data)) scopes.push(parsed.data);
  }
  if (scopes.length === 0) return mode === "strict" ? null : ["mesh:orchestrate"];
  return scopes;
}

/** Whether a requested `resource` names this mesh's `/mcp` (a trailing slash aside). */
export const sameResource = (asked: string, ours: string): boolean => asked.replace(/\/+$/, "") === ours;

export async function checkAuthorize(
  params: Record<string, string>,
  base: string,
  lobby: Party.FetchLobby,
  orchestratorToken: string,
): Promise<{ ok: true; value: CheckedAuthorize } | { ok: false; refusal: AuthorizeRefusal }> {
  const show = (error: OAuthErrorCode, description: string) => ({
    ok: false as const,
    refusal: { kind: "show" as const, error: body(error, description) },
  });
  const parsed = AuthorizeParams.safeParse(params);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join(".")).join(", ");
    return show("invalid_request", `missing or malformed: ${fields}`);
  }
  const asked = parsed.data;
  let client: { client_name: string; redirect_uris: string[] };
  if (asked.client_id.startsWith(OAUTH_CLIENT_PREFIX)) {
    const known = await askGrants(lobby.parties, orchestratorToken, { type: "client.get", client_id: asked.client_id });
    if (!known.ok) return show(known.error.error, known.error.error_description);
    if (!("client" in known)) return show("server_error", "the grants room answered no client");
    client = known.client;
  } else if (URL.canParse(asked.client_id)) {
    const document = await fetchClientDocument(asked.client_id, oauthDev(lobby.env));
    if (!document.ok) return show(document.error.error, document.error.error_description);
    const uriProblem = checkRedirectUris(document.value.redirect_uris);
    if (uriProblem !== null) return show("invalid_client", `the client metadata document: ${uriProblem}`);
    client = {
      client_name: document.value.client_name ?? new URL(asked.client_id).host,
      redirect_uris: document.value.redirect_uris,
    };
  } else {
    return show(
      "invalid_client",
      `no client ${asked.client_id.slice(0, 100)} is registered here; register at /oauth/register or use a client metadata URL`,
    );
  }
  if (!client.redirect_uris.includes(asked.redirect_uri))
    return show("invalid_request", "redirect_uri is not one the client registered");
  const back = (error: OAuthErrorCode, description: string) => ({
    ok: false as const,
    refusal: {
      kind: "redirect" as const,
      redirect_uri: asked.redirect_uri,
      state: asked.state,
      error: body(error, description),
    },
  });
  if (asked.response_type !== "code") return back("unsupported_response_type", "response_type must be code");
  if (asked.code_challenge_method !== "S256")
    return back("invalid_request", "code_challenge_method must be S256 (plain is not accepted)");
  if (!/^[A-Za-z0-9_-]{43}$/.test(asked.code_challenge))
    return back("invalid_request", "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)");
  const scope = parseScope(asked.scope) ?? ["mesh:orchestrate" as const];
  const resource = resourceOf(base);
  if (asked.resource !== undefined && !sameResource(asked.resource, resource))
    return back("invalid_target", `resource: this authorization server issues tokens for ${resource} only`);
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(asked)) if (typeof value === "string") fields[name] = value;
  // The page posts back the scope it shows, not the words it ignored.
  fields.scope = scope.join(" ");
  return {
    ok: true,
    value: {
      client_id: asked.client_id,
      client_name: client.client_name,
      redirect_uri: asked.redirect_uri,
      code_challenge: asked.code_challenge,
      state: asked.state,
      scope,
      resource,
      fields,
    },
  };
}

/** The client's redirect URI with the answer's parameters added (its own query kept). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): Response {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) target.searchParams.set(name, value);
  return new Response(null, { status: 302, headers: { location: target.toString(), "cache-control": "no-store" } });
}

/** The consent page's view of a checked request. */
export function consentView(checked: CheckedAuthorize, error?: string): ConsentView {
  return {
    client_name: checked.client_name,
    client_id: checked.client_id,
    redirect_host: new URL(checked.redirect_uri).host,
    scope: checked.scope,
    fields: checked.fields,
    ...(error === undefined ? {} : { error }),
  };
}
