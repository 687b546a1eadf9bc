import type { z } from "zod";
import { MAX_BODY_BYTES, parseJson, type Result, refuse } from "../../protocol/index.ts";

/**
 * Reads a JSON body against a schema: too large → message_too_large, not JSON → bad_json, wrong → bad_request naming
 * the field.
 */
export async function readJsonBody<T>(request: Request, schema: z.ZodType<T>): Promise<Result<T>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    return refuse("message_too_large", `body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  const text = await request.text();
  if (new TextEncoder().encode(text).byteLength > MAX_BODY_BYTES) {
    return refuse("message_too_large", `body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  return parseJson(schema, text, "body");
}
