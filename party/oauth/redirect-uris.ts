import { loopbackHost } from "./client-metadata-fetch.ts";

/**
 * Which redirect URIs a registering client may name (docs/oauth.md): https anywhere, http only on a
 * loopback host (native apps such as Claude Code listen on one, RFC 8252 §7.3), never a fragment.
 * Codes travel to these, so anything else could hand a code to a stranger.
 */
export function checkRedirectUris(uris: readonly string[]): string | null {
  for (const uri of uris) {
    const url = new URL(uri);
    if (url.hash !== "") return `${uri}: a redirect URI may carry no fragment`;
    if (url.username !== "" || url.password !== "") return `${uri}: a redirect URI may carry no credentials`;
    if (url.protocol === "https:") continue;
    if (url.protocol === "http:" && loopbackHost(url.hostname)) continue;
    return `${uri}: redirect URIs must be https, or http on a loopback host`;
  }
  return null;
}
