import { z } from "zod";
import { AgentDegraded, AttemptRef } from "./agent-wire.ts";
import { AgentCapabilities } from "./isolation.ts";
import { ExecutorTier } from "./ladder.ts";

/**
 * How an agent is doing: online (heartbeating), stale (beats missed, not yet lost), lost (three beats
 * missed: its attempts were given up as `agent_lost`), offline (disconnected cleanly, holding nothing),
 * revoked (refused for good: `POST /api/agents/<name>/revoke`).
 */
export const AgentState = z.enum(["online", "stale", "lost", "offline", "revoked"]);
export type AgentState = z.infer<typeof AgentState>;

/** An agent as the registry lists it (`GET /api/agents`, `list_agents`, the dashboard). */
export const AgentRecord = z.object({
  name: z.string(),
  kind: z.enum(["mac", "vm"]),
  tiers: z.array(ExecutorTier),
  capacity: z.number().int().positive(),
  version: z.string(),
  state: AgentState,
  /** When it first registered (ms since epoch). */
  registered_at: z.number(),
  /** Its last heartbeat or hello (ms since epoch). */
  last_heartbeat: z.number(),
  /** Attempts assigned to it and not yet released. */
  running: z.array(AttemptRef),
  /** When the watchdog gave it up (ms since epoch); cleared when it says hello again. */
  lost_at: z.number().optional(),
  /** What it can do (its hello's capabilities). */
  capabilities: AgentCapabilities.optional(),
  /** Disk its worktrees use, in bytes, as it last reported. */
  worktrees_bytes: z.number().optional(),
  /** The enrollment token it enrolled with (its name, never the secret). */
  enrolled_by: z.string().optional(),
  /** When it was revoked (ms since epoch). */
  revoked_at: z.number().optional(),
  /** Tiers its executors file names that it does not serve, and why (its preflight, docs/executors-file.md). */
  unavailable: z.partialRecord(ExecutorTier, z.string()).optional(),
  /** Capabilities it cannot use now, and why (its last hello or heartbeat): no task that needs one goes to it. */
  degraded: AgentDegraded.optional(),
});
export type AgentRecord = z.infer<typeof AgentRecord>;
