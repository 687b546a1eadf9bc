import { type AuditAppend, MAX_BODY_BYTES, type OAuthErrorBody, type OAuthErrorCode } from "../../protocol/index.ts";

/** Keeps an audit record (the edge's `waitUntil` around the audit room's append). */
export type Audit = (record: AuditAppend["record"]) => void;

/** An RFC 6749 §5.2 error: JSON, never cached; 401 for a client that is not known or not authenticated. */
export function oauthError(
  error: OAuthErrorBody,
  status = error.error === "invalid_client" ? 401 : error.error === "server_error" ? 500 : 400,
): Response {
  return new Response(JSON.stringify(error), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", pragma: "no-cache" },
  });
}

export const oauthFailure = (error: OAuthErrorCode, description: string): Response =>
  oauthError({ error, error_description: description });

/** A JSON answer of an OAuth endpoint: never cached (it may carry tokens). */
export function oauthJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", pragma: "no-cache" },
  });
}

/** A form-encoded body (RFC 6749 §3.2), bounded; a repeated parameter is refused, empty ones are dropped. */
export async function readForm(request: Request): Promise<Record<string, string> | Response> {
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES)
    return oauthFailure("invalid_request", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return oauthFailure("invalid_request", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (name in form) return oauthFailure("invalid_request", `${name}: given twice`);
    if (value !== "") form[name] = value;
  }
  return form;
}
