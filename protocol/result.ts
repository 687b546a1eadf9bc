import type { ErrorBody, ErrorCode } from "./errors.ts";

/**
 * The one shape of a local outcome (replies are `{ok, …}`): a value, or a typed error.
 * Rooms, the edge and agents return it instead of throwing; `E` defaults to the wire error body.
 */
export type Result<T, E = ErrorBody> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });

/** A refusal with a wire error code and a message a person can act on. */
export const refuse = (code: ErrorCode, message: string): Result<never, ErrorBody> => ({
  ok: false,
  error: { code, message },
});
