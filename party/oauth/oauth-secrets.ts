import {
  OAUTH_ACCESS_PREFIX,
  OAUTH_CLIENT_PREFIX,
  OAUTH_CODE_PREFIX,
  OAUTH_REFRESH_PREFIX,
} from "../../protocol/index.ts";
import { base64url, randomSecret, sha256Hex } from "../auth/signing.ts";
import type { Fresh } from "./grant-state.ts";

/**
 * The OAuth secrets the mesh draws (docs/oauth.md): 32 random bytes each (Web Crypto), kept only as
 * their SHA-256; the grants room looks tokens up by that hash, so a stolen storage opens nothing.
 */
export const hashToken = (token: string): Promise<string> => sha256Hex(token);

/** The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)) (RFC 7636 §4.2). */
export async function s256(verifier: string): Promise<string> {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

/** Every value a grants-room command may need, drawn fresh. */
export async function drawFresh(): Promise<Fresh> {
  const code = `${OAUTH_CODE_PREFIX}${randomSecret()}`;
  const access = `${OAUTH_ACCESS_PREFIX}${randomSecret()}`;
  const refresh = `${OAUTH_REFRESH_PREFIX}${randomSecret()}`;
  const [code_hash, access_hash, refresh_hash] = await Promise.all([
    hashToken(code),
    hashToken(access),
    hashToken(refresh),
  ]);
  return {
    client_id: `${OAUTH_CLIENT_PREFIX}${randomSecret(16)}`,
    grant_id: `g_${randomSecret(12)}`,
    code,
    code_hash,
    access,
    access_hash,
    refresh,
    refresh_hash,
  };
}
