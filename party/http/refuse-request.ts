import { MAX_BODY_BYTES } from "../../protocol/index.ts";

/**
 * Answers a request refused before its body was read. An unread body leaves the connection unusable,
 * so a keep-alive client's next request on it fails ("other side closed"): a body within the
 * limit is drained first; a larger one gets `connection: close` instead of being read.
 */
export async function refuseRequest(request: Request, response: Response): Promise<Response> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (request.body === null || request.bodyUsed) return response;
  if (declared <= MAX_BODY_BYTES) {
    await request.arrayBuffer().catch(() => undefined);
    return response;
  }
  const headers = new Headers(response.headers);
  headers.set("connection", "close");
  return new Response(response.body, { status: response.status, headers });
}
