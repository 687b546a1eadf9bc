// The consent page of `GET /oauth/authorize` (docs/connect-claude-ai.md): who asks (the client's own
// name, untrusted), where the code goes (the redirect host, shown large: a look-alike name is the
// usual trick, the host is not), what it may do (each scope in words), and a credential field. Plain
// HTML posting back to `POST /oauth/authorize`: it works with JavaScript off and under a CSP that
// allows no script and only this page's own stylesheet.
import type { ConsentView, OAuthScope } from "../../protocol/oauth.ts";
import { CONSENT_STYLE, CONSENT_STYLE_HASH } from "./consent-style.ts";

/** Each scope as a person reads it. */
export const SCOPE_WORDS: Record<OAuthScope, string> = {
  "mesh:orchestrate": "create, cancel and decide tasks, use every MCP tool",
  "mesh:read": "read tasks, logs, agents and budget",
};

/** Text made safe for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The parameters posted back beside the hidden fields; a client's field of the same name is dropped. */
const OWN_FIELDS = new Set(["credential", "decision"]);

export function renderConsentPage(view: ConsentView): string {
  const name = escapeHtml(view.client_name);
  const host = escapeHtml(view.redirect_host);
  const scopes =
    view.scope.length === 0
      ? `<li>no scope named</li>`
      : view.scope
          .map((scope) => `<li><code>${escapeHtml(scope)}</code> — ${escapeHtml(SCOPE_WORDS[scope])}</li>`)
          .join("\n        ");
  const hidden = Object.entries(view.fields)
    .filter(([field]) => !OWN_FIELDS.has(field))
    .map(([field, value]) => `<input type="hidden" name="${escapeHtml(field)}" value="${escapeHtml(value)}">`)
    .join("\n      ");
  const error =
    view.error === undefined
      ? ""
      : `<p class="error" role="alert" id="consent-error">${escapeHtml(view.error)}</p>\n    `;
  const described = view.error === undefined ? "credential-hint" : "consent-error credential-hint";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>Allow ${name} to use this mesh? · agent-mesh</title>
<style>${CONSENT_STYLE}</style>
</head>
<body>
<main>
  <div class="card">
    <p class="brand">agent-mesh · connect an app</p>
    <h1><span data-testid="consent-client">${name}</span> wants to use this mesh</h1>
    <p class="client-id">client id <code data-testid="consent-client-id">${escapeHtml(view.client_id)}</code></p>
    <div class="destination">
      <p>If you approve, the access code goes to</p>
      <p class="host mono" data-testid="consent-redirect-host">${host}</p>
      <p class="why">Approve only if that is the app you are connecting. The name above is the app's own claim; this address is where its access goes.</p>
    </div>
    <h2>It asks to</h2>
    <ul class="scopes" data-testid="consent-scopes">
        ${scopes}
    </ul>
    ${error}<form method="post" action="/oauth/authorize" autocomplete="off">
      ${hidden}
      <label for="credential">Orchestrator token or operator link token</label>
      <input id="credential" name="credential" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" required aria-describedby="${described}"${view.error === undefined ? "" : ' aria-invalid="true" autofocus'}>
      <p class="hint" id="credential-hint">The token proves you run this mesh. It stays here: the app gets its own token, which you can revoke from the dashboard. An operator link grants read-only access at most.</p>
      <div class="actions">
        <button class="approve" type="submit" name="decision" value="approve">Approve</button>
        <button class="deny" type="submit" name="decision" value="deny" formnovalidate>Deny</button>
      </div>
    </form>
  </div>
</main>
</body>
</html>
`;
}

/**
 * The headers the page is served with: no framing (a framed consent page invites clickjacking), no
 * script, only its own stylesheet, no caching (it carries the client's state), no referrer.
 * `form-action` is left out on purpose: browsers apply it to the 302 that follows the post, and that
 * goes to the client's redirect URI.
 */
export function consentPageHeaders(): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "content-security-policy": `default-src 'none'; style-src '${CONSENT_STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'`,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
  };
}

/** The page as a response: 200 when first shown, 401 when shown again after a wrong credential. */
export function consentPageResponse(view: ConsentView, status = 200): Response {
  return new Response(renderConsentPage(view), { status, headers: consentPageHeaders() });
}
