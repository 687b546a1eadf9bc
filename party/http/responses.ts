import { type ErrorCode, httpStatusOf } from "../../protocol/index.ts";

/** A JSON response. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8" } });
}

/** The error shape of every route: `{error: {code, message}}` with the code's status. */
export function errorResponse(code: ErrorCode, message: string): Response {
  return json({ error: { code, message } }, httpStatusOf[code]);
}
