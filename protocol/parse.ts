import type { z } from "zod";
import type { ErrorBody } from "./errors.ts";
import { MAX_FRAME_BYTES } from "./limits.ts";
import { type Result, refuse } from "./result.ts";

/**
 * Why a frame was refused, ready to send back: the error, and the `type` it claimed (when it had one) as `in_reply_to`.
 */
export type FrameError = ErrorBody & { in_reply_to?: string };

/** The outcome of reading one frame: a typed message, or a typed error to send back. Never throws. */
export type ParseResult<T> = Result<T, FrameError>;

const encoder = new TextEncoder();

/** Bytes of a frame's UTF-8 text (cheap upper bound first: a char is at most 3 bytes in UTF-16 terms). */
function frameBytes(raw: string): number {
  return raw.length * 3 <= MAX_FRAME_BYTES ? raw.length : encoder.encode(raw).byteLength;
}

/** Explains a schema failure by naming the first bad field. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid message";
  if (issue.code === "unrecognized_keys") {
    const where = issue.path.length > 0 ? `${issue.path.join(".")}.` : "";
    return `${issue.keys.map((key) => where + key).join(", ")}: not a known field`;
  }
  const path = issue.path.length > 0 ? issue.path.join(".") : "(message)";
  return `${path}: ${issue.message}`;
}

/**
 * Reads one frame against a discriminated union on `type`: malformed JSON, oversized frames,
 * unknown types and wrong fields each come back as their own error code.
 */
export function parseMessage<T>(schema: z.ZodType<T>, raw: string | ArrayBuffer | ArrayBufferView): ParseResult<T> {
  if (typeof raw !== "string") {
    return {
      ok: false,
      error: { code: "bad_message", message: "binary frames are not part of the protocol; send JSON text" },
    };
  }
  if (frameBytes(raw) > MAX_FRAME_BYTES) {
    return {
      ok: false,
      error: { code: "message_too_large", message: `frame exceeds ${MAX_FRAME_BYTES} bytes; send smaller batches` },
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: { code: "bad_json", message: "frame is not valid JSON" } };
  }
  const type =
    typeof data === "object" && data !== null && "type" in data && typeof data.type === "string"
      ? data.type
      : undefined;
  const parsed = schema.safeParse(data);
  if (parsed.success) return { ok: true, value: parsed.data };
  const discriminatorFailed = parsed.error.issues.some(
    (issue) => issue.code === "invalid_union" && issue.path.join(".") === "type",
  );
  if (discriminatorFailed) {
    return {
      ok: false,
      error: {
        code: "unknown_type",
        message: type === undefined ? "message has no string 'type'" : `unknown message type '${type}'`,
        ...(type === undefined ? {} : { in_reply_to: type }),
      },
    };
  }
  return {
    ok: false,
    error: {
      code: "bad_message",
      message: `${type ?? "message"}: ${describeIssues(parsed.error)}`,
      ...(type === undefined ? {} : { in_reply_to: type }),
    },
  };
}

/**
 * Reads JSON text (an HTTP body, a reply, a file) against a schema: not JSON is `bad_json`, the wrong
 * shape `bad_request` naming the first bad field. Never throws; `what` names the text in the message.
 */
export function parseJson<T>(schema: z.ZodType<T>, text: string, what = "the text"): Result<T> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return refuse("bad_json", `${what} is not valid JSON`);
  }
  const parsed = schema.safeParse(data);
  return parsed.success ? { ok: true, value: parsed.data } : refuse("bad_request", describeIssues(parsed.error));
}
