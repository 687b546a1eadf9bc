// The consent page: every value it interpolates is escaped (the client's name and the fields come from
// the client), it names the redirect host and each scope in words, posts back every authorize field,
// re-shows an error, and its colours keep 4.5:1 in both themes. Its CSP allows its stylesheet by hash.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  consentPageHeaders,
  consentPageResponse,
  escapeHtml,
  renderConsentPage,
} from "../../party/oauth/consent-page.ts";
import { CONSENT_STYLE, CONSENT_STYLE_HASH } from "../../party/oauth/consent-style.ts";
import type { ConsentView } from "../../protocol/oauth.ts";
import { contrast, themesOf } from "../web/colour-contrast.ts";

const HOSTILE = `<script>alert("x")</script>' onmouseover='alert(1)" autofocus x="`;

const view = (over: Partial<ConsentView> = {}): ConsentView => ({
  client_name: "Claude",
  client_id: "client-123",
  redirect_host: "claude.ai",
  scope: ["mesh:orchestrate"],
  fields: {
    response_type: "code",
    client_id: "client-123",
    redirect_uri: "https://claude.ai/api/mcp/auth_callback",
    code_challenge: "abc",
    code_challenge_method: "S256",
    state: "st-1",
    scope: "mesh:orchestrate",
  },
  ...over,
});

/** The attribute values of every `<input type="hidden">`, read back as a browser would. */
function hiddenFields(html: string): Record<string, string> {
  const decodeEntities = (text: string): string =>
    text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  const found: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    found[decodeEntities(match[1] ?? "")] = decodeEntities(match[2] ?? "");
  return found;
}

describe("the consent page", () => {
  it("names the client, its redirect host and each scope in words", () => {
    const html = renderConsentPage(view({ scope: ["mesh:orchestrate", "mesh:read"] }));
    expect(html).toContain('<span data-testid="consent-client">Claude</span> wants to use this mesh');
    expect(html).toContain('data-testid="consent-redirect-host">claude.ai</p>');
    expect(html).toContain("<code>mesh:orchestrate</code> — create, cancel and decide tasks, use every MCP tool");
    expect(html).toContain("<code>mesh:read</code> — read tasks, logs, agents and budget");
    expect(html).toContain('<input id="credential" name="credential" type="password" autocomplete="off"');
    expect(html).toContain('name="decision" value="approve"');
    expect(html).toContain('name="decision" value="deny" formnovalidate');
    expect(html).toContain('<form method="post" action="/oauth/authorize"');
    expect(html).toContain('<label for="credential">');
    expect(html).not.toContain('role="alert"');
    expect(html).not.toMatch(/<script/i);
  });

  it("escapes a hostile client name, id, host and fields everywhere", () => {
    const html = renderConsentPage(
      view({
        client_name: HOSTILE,
        client_id: HOSTILE,
        redirect_host: HOSTILE,
        error: HOSTILE,
        fields: { state: HOSTILE, [HOSTILE]: "v" },
      }),
    );
    expect(html).not.toContain("<script>");
    expect(html).not.toContain(`"x"`);
    expect(html).not.toContain("' onmouseover='");
    expect(html).not.toContain('" autofocus x="');
    expect(html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39; onmouseover=&#39;");
    // In the title, the heading, the client id, the host and the error.
    expect(html.split("&#60;script&#62;").length - 1).toBe(7);
    // Read back, each field is exactly what the client sent.
    expect(hiddenFields(html)).toEqual({ state: HOSTILE, [HOSTILE]: "v" });
  });

  it("posts back every authorize field but never a client's own credential or decision", () => {
    const fields = { ...view().fields, credential: "planted", decision: "approve" };
    expect(hiddenFields(renderConsentPage(view({ fields })))).toEqual(view().fields);
  });

  it("shows the error when shown again, tied to the credential field", () => {
    const html = renderConsentPage(
      view({ error: "That credential is not this mesh's orchestrator token or an operator link." }),
    );
    expect(html).toContain(
      '<p class="error" role="alert" id="consent-error">That credential is not this mesh&#39;s orchestrator token or an operator link.</p>',
    );
    expect(html).toContain('aria-describedby="consent-error credential-hint" aria-invalid="true"');
  });

  it("escapes the five characters HTML treats specially, and nothing else", () => {
    expect(escapeHtml(`a&b<c>d"e'f é`)).toBe("a&#38;b&#60;c&#62;d&#34;e&#39;f é");
  });

  it("is served unframeable, without script, its stylesheet allowed by its hash", async () => {
    const headers = consentPageHeaders();
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"]).toContain("default-src 'none'");
    expect(CONSENT_STYLE_HASH).toBe(`sha256-${createHash("sha256").update(CONSENT_STYLE, "utf8").digest("base64")}`);
    expect(renderConsentPage(view())).toContain(`<style>${CONSENT_STYLE}</style>`);
    const response = consentPageResponse(view({ error: "wrong" }), 401);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await response.text()).toContain("wrong");
  });
});

describe("the consent page's colours", () => {
  const { light, dark } = themesOf(CONSENT_STYLE);
  // Text on the backgrounds it is drawn on (4.5:1), and the borders that outline controls (3:1).
  const text: [string, string][] = [
    ["fg", "bg"],
    ["fg", "panel"],
    ["fg", "subtle"],
    ["muted", "panel"],
    ["muted", "subtle"],
    ["muted", "bg"],
    ["on-accent", "accent"],
    ["error-fg", "error-bg"],
    ["accent", "panel"],
  ];
  const outlines: [string, string][] = [
    ["border", "panel"],
    ["border", "bg"],
    ["focus", "panel"],
    ["accent", "subtle"],
  ];

  it.each([
    ["light", light],
    ["dark", dark],
  ] as const)("keep text at 4.5:1 and control outlines at 3:1, %s theme", (_, theme) => {
    const pick = (name: string): string => theme.get(name) ?? light.get(name) ?? "";
    expect(theme.size).toBeGreaterThanOrEqual(11);
    const poor = [
      ...text.map(([fg, bg]) => ({ fg, bg, ratio: contrast(pick(fg), pick(bg)), need: 4.5 })),
      ...outlines.map(([fg, bg]) => ({ fg, bg, ratio: contrast(pick(fg), pick(bg)), need: 3 })),
    ]
      .filter(({ ratio, need }) => !(ratio >= need))
      .map(({ fg, bg, ratio }) => `${fg} on ${bg}: ${ratio.toFixed(2)}:1`);
    expect(poor).toEqual([]);
  });
});
