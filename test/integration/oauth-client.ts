// The OAuth side of the tests: an in-memory OAuthClientProvider for the MCP SDK's own `auth()`, and the
// person at the consent page (reads the page's hidden fields and posts them with a credential).
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import type { ApiBody, Mesh } from "./mesh-harness.ts";

export const REDIRECT_URI = "http://127.0.0.1:9/callback";

/** Keeps what the SDK asks it to keep; `authorizationUrl` is where it would send the person. */
export class MemoryProvider implements OAuthClientProvider {
  authorizationUrl: URL | null = null;
  saved: OAuthTokens | undefined;
  private verifier = "";
  private client: OAuthClientInformationMixed | undefined;
  readonly clientMetadata: OAuthClientMetadata;

  constructor(
    options: {
      scope?: string;
      clientId?: string;
      redirectUri?: string;
      authMethod?: "none" | "client_secret_post" | "client_secret_basic";
    } = {},
  ) {
    const redirectUri = options.redirectUri ?? REDIRECT_URI;
    this.clientMetadata = {
      client_name: "oauth test client",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: options.authMethod ?? "none",
      ...(options.scope === undefined ? {} : { scope: options.scope }),
    };
    // A pre-set client id (a client metadata URL over loopback http: the SDK itself only makes https ones) skips
    // registration.
    if (options.clientId !== undefined) this.client = { client_id: options.clientId };
  }

  get redirectUrl(): string {
    return this.clientMetadata.redirect_uris[0] ?? REDIRECT_URI;
  }
  state(): string {
    return "state-123";
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.client = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
  get clientId(): string | undefined {
    return this.client?.client_id;
  }
}

const decode = (text: string): string =>
  text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");

/** The hidden inputs of the consent page's form. */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[decode(match[1] ?? "")] = decode(match[2] ?? "");
  return fields;
}

/** The person: opens the consent page, then posts its form with `credential` and `decision`. */
export async function consent(
  authorizationUrl: URL,
  credential: string,
  decision: "approve" | "deny" = "approve",
): Promise<{ page: Response; html: string; answer: Response; answerText: string }> {
  const page = await fetch(authorizationUrl, { redirect: "manual" });
  const html = await page.text();
  const fields = hiddenFields(html);
  const answer = await fetch(new URL("/oauth/authorize", authorizationUrl), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...fields, credential, decision }).toString(),
  });
  return { page, html, answer, answerText: await answer.text() };
}

/** The code and state of a consent's redirect. */
export function codeOf(answer: Response): { code: string | null; state: string | null; error: string | null } {
  const location = new URL(answer.headers.get("location") ?? "http://invalid/");
  return {
    code: location.searchParams.get("code"),
    state: location.searchParams.get("state"),
    error: location.searchParams.get("error"),
  };
}

/** An MCP client over Streamable HTTP whose credentials come from `provider` through the SDK's auth. */
export function oauthClient(
  mesh: Mesh,
  provider: MemoryProvider,
  base = mesh.url,
): { client: Client; transport: StreamableHTTPClientTransport } {
  return {
    client: new Client({ name: "oauth-test", version: "1.0.0" }),
    transport: new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider }),
  };
}

/** A form post to an OAuth endpoint: status and JSON body. */
export async function postForm(
  url: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: response.headers,
  };
}

/** Audit records since `since` with an action starting `oauth.`. */
export async function oauthAudit(
  mesh: Mesh,
  since: number,
): Promise<Array<{ action: string; outcome: string; role: string; credential: string; target?: string }>> {
  const { body } = await mesh.api<
    ApiBody & {
      records?: Array<{ action: string; outcome: string; role: string; credential: string; target?: string }>;
    }
  >(`/api/audit?since=${since}`);
  return (body.records ?? []).filter((record) => record.action.startsWith("oauth."));
}
