import { ClientMetadataDocument, describeIssues, type OAuthErrorBody, type Result } from "../../protocol/index.ts";

/**
 * Fetches a client ID metadata document (docs/oauth.md, "Clients"): the client id is an URL and the
 * document it serves names the client and its redirect URIs. The mesh fetches on a stranger's word,
 * so the fetch is bounded: https only (loopback http under MESH_OAUTH_DEV=1), no redirects, at most
 * 5 KB, at most 3 s, and never to a host written as a private or loopback address (workerd resolves
 * names itself; the mesh resolves nothing, so a name that points inside is the platform's to refuse).
 */
export const CLIENT_DOCUMENT_MAX_BYTES = 5 * 1024;
export const CLIENT_DOCUMENT_TIMEOUT_MS = 3000;

const refusal = (description: string): Result<never, OAuthErrorBody> => ({
  ok: false,
  error: { error: "invalid_client", error_description: description },
});

/** Whether a URL's host is loopback: `localhost`, `*.localhost`, 127.0.0.0/8 or ::1. */
export function loopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1";
}

/** Whether a host is written as a private, link-local, loopback or unspecified address (IPv4 or IPv6 literal). */
export function privateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (
    loopbackHost(host) ||
    host === "0.0.0.0" ||
    host === "::" ||
    host.endsWith(".internal") ||
    host.endsWith(".local")
  )
    return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host.replace(/^::ffff:/, ""));
  if (v4 !== null) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  // IPv6 unique-local (fc00::/7), link-local (fe80::/10), and IPv4-mapped forms URL keeps in hex.
  return host.includes(":") && (/^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith("::ffff:"));
}

/** Why this client id URL may not be fetched, or null. */
export function clientUrlProblem(clientId: string, dev: boolean): string | null {
  if (!URL.canParse(clientId)) return "the client id is not a registered client nor an URL";
  const url = new URL(clientId);
  if (url.username !== "" || url.password !== "" || url.hash !== "")
    return "a client metadata URL may carry no credentials nor fragment";
  if (url.pathname === "/" || url.pathname === "")
    return "a client metadata URL needs a path (e.g. https://example.com/oauth/client.json)";
  if (url.protocol === "http:" && dev && loopbackHost(url.hostname)) return null;
  if (url.protocol !== "https:")
    return `a client metadata URL must be https${dev ? " (or http on a loopback host)" : " (loopback http only with MESH_OAUTH_DEV=1)"}`;
  if (privateHost(url.hostname) && !dev)
    return `the client metadata host ${url.hostname} is a private or loopback address`;
  return null;
}

/** Reads at most `limit` bytes of a body; null when it is longer. */
async function boundedText(response: Response, limit: number): Promise<string | null> {
  if (Number(response.headers.get("content-length") ?? "0") > limit) return null;
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** The client's document, checked (its `client_id` is the URL itself), or why not, as `invalid_client`. */
export async function fetchClientDocument(
  clientId: string,
  dev: boolean,
): Promise<Result<ClientMetadataDocument, OAuthErrorBody>> {
  const problem = clientUrlProblem(clientId, dev);
  if (problem !== null) return refusal(problem);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CLIENT_DOCUMENT_TIMEOUT_MS);
  try {
    const response = await fetch(clientId, {
      redirect: "manual",
      signal: abort.signal,
      headers: { accept: "application/json" },
    });
    if (response.status >= 300 && response.status < 400)
      return refusal(
        `the client metadata URL answered a redirect (${response.status}); the document must be served at the client id itself`,
      );
    if (!response.ok) return refusal(`the client metadata URL answered ${response.status}`);
    const text = await boundedText(response, CLIENT_DOCUMENT_MAX_BYTES);
    if (text === null) return refusal(`the client metadata document exceeds ${CLIENT_DOCUMENT_MAX_BYTES} bytes`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return refusal("the client metadata document is not JSON");
    }
    const parsed = ClientMetadataDocument.safeParse(data);
    if (!parsed.success) return refusal(`the client metadata document is not valid: ${describeIssues(parsed.error)}`);
    if (parsed.data.client_id !== clientId)
      return refusal("the client metadata document's client_id is not the URL it was fetched from");
    return { ok: true, value: parsed.data };
  } catch (error) {
    return refusal(
      abort.signal.aborted
        ? `the client metadata URL did not answer within ${CLIENT_DOCUMENT_TIMEOUT_MS / 1000} s`
        : `the client metadata URL could not be fetched: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}
