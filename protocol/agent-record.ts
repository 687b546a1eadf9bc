import { z } from "zod";
import { ExecutorTier } from "./ladder.ts";
import { AttemptRef } from "./agent-wire.ts";

/** How an agent is doing: online (connected, heartbeating), stale (connected, beats missed), offline. */
export const AgentState = z.enum(["online", "stale", "offline"]);
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
});
export type AgentRecord = z.infer<typeof AgentRecord>;
