import type * as Party from "partykit/server";
import { OAUTH_CLIENT_PREFIX, type OAuthErrorBody, type Result } from "../../protocol/index.ts";
import { sameText } from "./grant-state.ts";
import { askGrants } from "./grants-client.ts";
import { hashToken } from "./oauth-secrets.ts";

const refusal = (description: string): Result<never, OAuthErrorBody> => ({
  ok: false,
  error: { error: "invalid_client", error_description: description },
});

/** `client_id` and `client_secret` of an `Authorization: Basic` header (RFC 6749 §2.3.1: each form-encoded). */
function basicCredentials(header: string | null): { id: string; secret: string } | null {
  const match = header === null ? null : /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (match === null) return null;
  let decoded: string;
  try {
    decoded = atob(match[1] ?? "");
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  const unform = (text: string): string => decodeURIComponent(text.replace(/\+/g, " "));
  try {
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * Who the token endpoint is talking to (docs/oauth.md): its client id, from the form or a Basic
 * header. A registered client is looked up; one registered with a secret must present it (in the
 * body or the header); a public one and a metadata-document client are held by PKCE alone.
 */
export async function authenticateClient(
  form: Record<string, string>,
  authorization: string | null,
  lobby: Party.FetchLobby,
  orchestratorToken: string,
): Promise<Result<string, OAuthErrorBody>> {
  const basic = basicCredentials(authorization);
  const clientId = form.client_id ?? basic?.id;
  if (clientId === undefined)
    return refusal("client_id is missing (in the body, or in an Authorization: Basic header)");
  if (basic !== null && form.client_id !== undefined && basic.id !== form.client_id)
    return refusal("the client_id of the body and of the Basic header differ");
  if (!clientId.startsWith(OAUTH_CLIENT_PREFIX))
    return URL.canParse(clientId)
      ? { ok: true, value: clientId }
      : refusal(`no client ${clientId.slice(0, 100)} is registered here`);
  const known = await askGrants(lobby.parties, orchestratorToken, { type: "client.get", client_id: clientId });
  if (!known.ok) return { ok: false, error: known.error };
  if (!("client" in known)) return refusal("the grants room answered no client");
  const { client } = known;
  if (client.secret_hash === undefined) return { ok: true, value: clientId };
  const secret = basic?.secret ?? form.client_secret;
  if (secret === undefined)
    return refusal(`client ${clientId} was registered with a secret (${client.auth_method}); send it`);
  return sameText(await hashToken(secret), client.secret_hash)
    ? { ok: true, value: clientId }
    : refusal("wrong client_secret");
}
