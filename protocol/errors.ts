import { z } from "zod";

/**
 * Every error code the mesh puts on a wire (HTTP bodies and socket `error` messages).
 * Local errors never leak as-is: they are mapped to one of these first.
 */
export const ErrorCode = z.enum([
  /** The frame or body is not valid JSON. */
  "bad_json",
  /** Valid JSON, but not a message this endpoint accepts (wrong fields or types). */
  "bad_message",
  /** A message `type` this endpoint does not know. */
  "unknown_type",
  /** A frame or body larger than the documented limit. */
  "message_too_large",
  /** A request field failed validation; the message names the field. */
  "bad_request",
  /** An MCP tool was called with arguments it does not take; the message names them (docs/mcp-arguments.md). */
  "invalid_arguments",
  /** No credential, or a wrong one. */
  "unauthorized",
  /** A valid credential of a role that may not do this. */
  "forbidden",
  /** No task, agent or route by that id or name. */
  "not_found",
  /** The task name is held by an unfinished task. */
  "name_in_use",
  /** The task is in a state that does not allow this (e.g. cancel after it ended). */
  "conflict",
  /** An agent spoke about an attempt that is not assigned to it. */
  "not_assigned",
  /** The agent's protocol version is not supported by this mesh. */
  "unsupported_version",
  /** The first message on an agent socket must be its hello. */
  "hello_required",
  /** A person rejected the task at the human step. */
  "rejected",
  /** The cost circuit breaker is open: today's spend and reservations reached the daily halt. */
  "budget_halted",
  /** `apply`: the user's checkout has uncommitted changes (the message names up to 20 files). */
  "checkout_dirty",
  /** `apply`: the branch does not merge cleanly into the checkout (the message names the files). */
  "apply_conflict",
  /** `apply`: the checkout is on another branch than it was at the task's base. */
  "wrong_branch",
  /** `apply`: the agent that ran the attempt is not connected. */
  "agent_offline",
  /** `apply` on a repo task: the remote refused the push to its base branch (the message carries its words). */
  "push_refused",
  /** A repo task's repository could not be reached or read from the agent (network, credentials, not found). */
  "repo_unavailable",
  /**
   * The server is missing a secret or has one too short: it serves nothing until restarted with it (docs/settings.md).
   */
  "server_misconfigured",
  /**
   * An agent name is bound to another agent's credential (docs/agent-identity.md): pick another name, or present that
   * agent's credential.
   */
  "name_taken",
  /**
   * The agent was revoked: it is refused until it enrolls under a new name or is forgotten (`DELETE
   * /api/agents/<name>`).
   */
  "agent_revoked",
  /** The mesh knows no such agent credential (the agent was forgotten, or the mesh's state is new): enroll again. */
  "credential_unknown",
  /** Too many requests or messages from one credential or connection; the answer says when to try again. */
  "rate_limited",
  /** Something failed inside the mesh; the message says what. */
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The error object of every wire: `{code, message}`, a message a person can act on. */
export const ErrorBody = z.object({
  /** Machine-readable code from `ErrorCode`. */
  code: ErrorCode,
  /** What happened and what to do. */
  message: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A refusal as every route and room answers it: `{error: {code, message}}` (docs/http-api.md). */
export const ErrorReply = z.object({ error: ErrorBody });
export type ErrorReply = z.infer<typeof ErrorReply>;

/** A refusal read by a client that may be older than the mesh: any code string, so a newer code still reads. */
export const AnyErrorReply = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** HTTP status for each error code, so every route answers the same way. */
export const httpStatusOf: Record<ErrorCode, number> = {
  bad_json: 400,
  bad_message: 400,
  unknown_type: 400,
  message_too_large: 413,
  bad_request: 400,
  invalid_arguments: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  name_in_use: 409,
  conflict: 409,
  not_assigned: 409,
  unsupported_version: 400,
  hello_required: 400,
  budget_halted: 503,
  rejected: 409,
  checkout_dirty: 409,
  apply_conflict: 409,
  wrong_branch: 409,
  agent_offline: 409,
  push_refused: 409,
  repo_unavailable: 502,
  server_misconfigured: 503,
  name_taken: 409,
  agent_revoked: 403,
  credential_unknown: 401,
  rate_limited: 429,
  internal: 500,
};

/**
 * WebSocket close codes the mesh uses (4000-4999 is the application range).
 * A peer that is closed with one of these should not retry blindly.
 */
export const CloseCode = {
  /** The agent's protocol version is not supported; upgrade the agent. */
  unsupportedVersion: 4406,
  /** Another agent connected with the same name; this connection is superseded. */
  replaced: 4410,
  /** The first message was not a valid hello. */
  helloRequired: 4400,
  /** The socket's role may not use this room (e.g. a viewer link for another task). */
  forbidden: 4403,
  /** There is no task in this room. */
  notFound: 4404,
  /** The agent spoke about an attempt that is not (or no longer) its own. */
  notAssigned: 4409,
  /** The agent missed three heartbeats and was given up as lost; it may reconnect and say hello again. */
  heartbeatTimeout: 4408,
  /**
   * The mesh does not know the agent's credential (forgotten, or a new mesh): enroll again with an enrollment token.
   */
  credentialUnknown: 4401,
  /** A socket sent more than its share of messages (RFC 6455 1008, policy violation). */
  flood: 1008,
} as const;
