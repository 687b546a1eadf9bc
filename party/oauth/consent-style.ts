// The consent page's stylesheet, inline in the page so it needs no other request and no JavaScript;
// the page's Content-Security-Policy allows exactly this text by its hash (docs/connect-claude-ai.md).
// Same palette as the dashboard (web/public/page.css): every text colour keeps 4.5:1 on its background
// in both themes, and control borders 3:1.

export const CONSENT_STYLE = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --fg: #1d2330;
  --muted: #586174;
  --border: #7b8494;
  --accent: #0b5fd6;
  --on-accent: #ffffff;
  --subtle: #eef3fb;
  --error-bg: #ffebe9;
  --error-fg: #82071e;
  --focus: #0b5fd6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117;
    --panel: #161b22;
    --fg: #e6edf3;
    --muted: #9da7b3;
    --border: #7d8590;
    --accent: #6cb6ff;
    --on-accent: #0d1117;
    --subtle: #1a2433;
    --error-bg: #3c1618;
    --error-fg: #ffb4ab;
    --focus: #6cb6ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 36rem; margin: 0 auto; padding: 24px 16px 40px; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 20px; }
.brand { margin: 0 0 8px; font-size: 14px; color: var(--muted); letter-spacing: 0.02em; }
h1 { margin: 0 0 4px; font-size: 22px; line-height: 1.3; overflow-wrap: anywhere; }
h2 { margin: 0 0 6px; font-size: 16px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
.client-id { margin: 0 0 18px; font-size: 14px; color: var(--muted); overflow-wrap: anywhere; }
.destination { margin: 0 0 18px; padding: 12px 14px; border: 2px solid var(--accent); border-radius: 8px; background: var(--subtle); }
.destination p { margin: 0; }
.destination .host { display: block; margin: 4px 0; font-size: 20px; font-weight: 700; overflow-wrap: anywhere; }
.destination .why { font-size: 14px; color: var(--muted); }
.scopes { margin: 0 0 18px; padding-left: 22px; }
.scopes li { margin-bottom: 4px; }
.scopes code { font-weight: 700; }
.error { margin: 0 0 18px; padding: 10px 14px; border: 1px solid var(--error-fg); border-radius: 6px; background: var(--error-bg); color: var(--error-fg); font-weight: 600; }
label { display: block; margin-bottom: 4px; font-weight: 700; }
input { width: 100%; min-height: 44px; padding: 10px 12px; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
.hint { margin: 6px 0 18px; font-size: 14px; color: var(--muted); }
.actions { display: flex; flex-wrap: wrap; gap: 12px; }
button { flex: 1 1 9rem; min-height: 44px; padding: 10px 20px; border-radius: 6px; font: inherit; font-weight: 700; cursor: pointer; }
.approve { border: 1px solid var(--accent); background: var(--accent); color: var(--on-accent); }
.deny { border: 1px solid var(--border); background: var(--panel); color: var(--fg); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
`;

/**
 * `sha256-<base64>` of CONSENT_STYLE, for the page's `style-src`. Written out because the page is
 * rendered synchronously and WebCrypto's digest is not; test/oauth/consent-page.test.ts recomputes it.
 */
export const CONSENT_STYLE_HASH = "sha256-nVVwWvnBhI55wC0bfqpSHx6Cw1g0b4uACogZuW8yWxA=";
