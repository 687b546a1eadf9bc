import { z } from "zod";
import { AgentRecord } from "./agent-record.ts";
import { AttemptLost, AttemptUnserved, DispatchRequest } from "./room-commands.ts";

// What the agent registry keeps in its storage (docs/agent-registry.md), parsed when it starts.

/**
 * An agent's record (key `agent:<name>`): as listed without the derived `state`, plus its credential's hash, never
 * listed.
 */
export const StoredAgent = AgentRecord.omit({ state: true }).extend({ credential_sha256: z.string().optional() });
export type StoredAgent = z.infer<typeof StoredAgent>;

/** A request handed to an agent and not yet released (key `assigned`, by `<task>:<attempt>`). */
export const Assignment = z.object({ agent: z.string(), request: DispatchRequest });
export type Assignment = z.infer<typeof Assignment>;

/**
 * A lost attempt (or one no agent served in time) a task room has not been told of yet (key `lost-notices`).
 * A plain union, not a discriminated one: it is a stored record, not a wire, and the wire fixture corpus
 * walks every discriminated union on `type` as a wire (docs/wire-protocol.md).
 */
export const LostNotice = z.union([
  AttemptLost.extend({ task_id: z.string() }),
  AttemptUnserved.extend({ task_id: z.string() }),
]);
export type LostNotice = z.infer<typeof LostNotice>;

/**
 * Since when (ms since epoch) a queued attempt has had no agent to serve it, by `<task>:<attempt>` (key `unserved`).
 */
export const UnservedMark = z.number();
