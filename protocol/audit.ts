import { z } from "zod";

/**
 * One state-changing call, as the audit log keeps it (`GET /api/audit?since=`, docs/http-api.md): who (role
 * and credential name, never a secret), what, on what, and how it ended.
 */
export const AuditRecord = z.object({
  /** ms since epoch. */
  at: z.number(),
  /** `oauth_client`: a remote MCP client acting on its grant, or refused at the OAuth endpoints (docs/oauth.md). */
  role: z.enum(["orchestrator", "agent", "viewer", "oauth_client"]),
  /** `orchestrator`, `agent:<name>`, `enrollment:<token name>`, `viewer:<scope>`. */
  credential: z.string().max(200),
  /**
   * `task.create`, `task.cancel`, `task.resolve`, `task.apply`, `link.mint`, `agent.revoke`, `agent.forget`,
   * `agent.enroll`, `agent.hello`.
   */
  action: z.string().max(100),
  /** The task or agent it acted on. */
  target: z.string().max(300).optional(),
  /** `ok`, or the error code (and for agents, what was decided). */
  outcome: z.string().max(300),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** Any room or the edge → audit room: keep this record. */
export const AuditAppend = z.object({ type: z.literal("audit.append"), record: AuditRecord.omit({ at: true }) });
export type AuditAppend = z.infer<typeof AuditAppend>;

/** How many records the audit log keeps; the oldest go first. */
export const AUDIT_KEEP = 10_000;
