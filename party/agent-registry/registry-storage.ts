import { z } from "zod";
import { DispatchRequest } from "../../protocol/index.ts";
import { Assignment, LostNotice, StoredAgent, UnservedMark } from "../../protocol/registry-records.ts";
import { listStored, parseStored, type RecordStorage, readStored, type StorageFault } from "../stored-records.ts";
import { type RegistryEffect, type RegistryState, restoredRegistry } from "./registry-state.ts";

// Where the registry keeps its state in storage, and how it reads it back (docs/agent-registry.md
// "Storage"). Every value is parsed with its protocol schema; what a corrupt one means:
// - an agent record: skipped (the agent's credential no longer opens the registry: it enrolls again);
// - a queued or handed-out request, a lost notice, an unserved mark: that one entry is dropped (a
//   request from a build before `assign` carried the agent's message is dropped the same way);
// - a whole key that is not a list or a map: read as empty.
// Each is logged once, at start; none stops the registry.

const AGENT_PREFIX = "agent:";
const PENDING_KEY = "pending";
/**
 * Requests handed to an agent and not yet released: if the agent comes back without them (it lost
 * the assignment with its socket), they go back to pending. A task room refuses any attempt that is
 * not still waiting, so a request handed out twice never runs twice.
 */
const ASSIGNED_KEY = "assigned";
/** Lost attempts the task rooms have not been told of yet (an alarm cannot reach other rooms). */
const LOST_NOTICES_KEY = "lost-notices";
/** Since when queued requests have had no agent to serve them (the queue timeout, dispatch-queue.ts). */
const UNSERVED_KEY = "unserved";
const WHERE = "registry";

/** The registry as stored, parsed; `corrupt` lists what was dropped (already logged). */
export async function loadRegistry(storage: RecordStorage): Promise<{ state: RegistryState; corrupt: StorageFault[] }> {
  const agents = await listStored(storage, WHERE, { prefix: AGENT_PREFIX }, StoredAgent);
  const corrupt = [...agents.corrupt];
  const entries = async <T>(key: string, shape: "list" | "map", schema: z.ZodType<T>): Promise<Array<[string, T]>> => {
    const whole = await readStored<unknown[] | Record<string, unknown>>(
      storage,
      WHERE,
      key,
      shape === "list" ? z.array(z.unknown()) : z.record(z.string(), z.unknown()),
    );
    if (!whole.ok) corrupt.push(whole.error);
    const raw = whole.ok && whole.value !== undefined ? Object.entries(whole.value) : [];
    return raw.flatMap(([at, value]): Array<[string, T]> => {
      const parsed = parseStored(WHERE, `${key}[${at}]`, value, schema);
      if (parsed.ok) return [[at, parsed.value]];
      corrupt.push(parsed.error);
      return [];
    });
  };
  const pending = (await entries(PENDING_KEY, "list", DispatchRequest)).map(([, request]) => request);
  const assigned = Object.fromEntries(await entries(ASSIGNED_KEY, "map", Assignment));
  const notices = (await entries(LOST_NOTICES_KEY, "list", LostNotice)).map(([, notice]) => notice);
  const unserved = Object.fromEntries(await entries(UNSERVED_KEY, "map", UnservedMark));
  return { state: restoredRegistry([...agents.records.values()], pending, assigned, notices, unserved), corrupt };
}

/** One put for a `persist` effect: the agents it names, the queue, the lost notices, as the state holds them now. */
export function persistedWrites(
  state: RegistryState,
  effect: Extract<RegistryEffect, { kind: "persist" }>,
): Record<string, unknown> {
  const writes: Record<string, unknown> = {};
  for (const name of effect.agents) writes[AGENT_PREFIX + name] = state.agents.get(name);
  if (effect.queue) {
    writes[PENDING_KEY] = state.pending;
    writes[ASSIGNED_KEY] = state.assigned;
    writes[UNSERVED_KEY] = state.unserved;
  }
  if (effect.notices) writes[LOST_NOTICES_KEY] = state.lostNotices;
  return writes;
}

/** The keys of forgotten agents' records. */
export const agentKeys = (names: readonly string[]): string[] => names.map((name) => AGENT_PREFIX + name);
