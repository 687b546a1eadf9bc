import type {
  AgentDegraded,
  AgentHello,
  AgentRecord,
  AgentRevoked,
  ApplyRequest,
  AttemptRef,
  DispatchRequest,
  ErrorBody,
  ExecutorTier,
  NotificationEvent,
  RegistryToAgent,
} from "../../protocol/index.ts";
import type { Assignment, LostNotice, StoredAgent } from "../../protocol/registry-records.ts";
import { agentState } from "./dispatch-picker.ts";
import { inServingOrder, type UnservedSince } from "./dispatch-queue.ts";
import { TierIndex } from "./tier-index.ts";

// The registry actor's state, events, effects and replies (docs/agent-registry.md). Events are facts
// (past tense), effects are orders (imperative): no kind names both.

export type { Assignment, LostNotice, StoredAgent };

/**
 * Who says hello (docs/agent-identity.md): an enrollment token, with a credential minted for the agent
 * should it be enrolled now (the room makes it before the event: randomness and hashing stay out of
 * the actor), or an agent's own credential, as its hash.
 */
export type HelloIdentity =
  | { via: "enrollment"; tokenName: string; credential: string; credentialHash: string }
  | { via: "credential"; agent: string; credentialHash: string };

/** What a revoke or forget answers. */
export type RevokeReply = AgentRevoked | { error: ErrorBody };
/** What a dispatch request answers: still queued, or the agent it went to. */
export type DispatchReply = { queued: boolean; agent?: string };
/** What `task.ended` answers: the agents that were connected to hear it. */
export type TaskEndedReply = { told: string[] };
/** What `apply.request` answers: the request id the agent's `branch.merged` will carry, or why it was not asked. */
export type ApplyReply = { asked: string } | { error: ErrorBody };

export const assignmentKey = (taskId: string, attempt: number): string => `${taskId}:${attempt}`;

/**
 * The registry actor (docs/agent-registry.md): a pure function of the registry's state and one event,
 * returning the next state and the effects the room carries out. Time comes with the event, so the
 * watchdog, the queue and the hand-outs are unit-tested on a fake clock.
 */
export type RegistryState = {
  /**
   * Agents by name. Events copy it before they change it, except heartbeats: they are the hot path
   * (200 a second at 1,000 agents) and replace their agent's record in this same map.
   */
  agents: Map<string, StoredAgent>;
  /** Agents by tier: picking one reads the tier's agents, not the fleet. Rebuilt only when a hello changes tiers. */
  tiers: TierIndex;
  /** Agent name → its live connection id (not stored: sockets do not survive a restart). */
  connected: ReadonlyMap<string, string>;
  /**
   * Dispatch requests waiting for an agent, in serving order: highest priority first, oldest first within one
   * (dispatch-queue.ts).
   */
  pending: readonly DispatchRequest[];
  /** Since when queued requests have had no online agent to serve them (the queue timeout, docs/scheduling.md). */
  unserved: UnservedSince;
  assigned: Readonly<Record<string, Assignment>>;
  lostNotices: readonly LostNotice[];
};

export type RegistryEvent =
  | { type: "hello-received"; hello: AgentHello; connectionId: string; identity: HelloIdentity }
  /** `POST /api/agents/<name>/revoke` (`forget`: `DELETE /api/agents/<name>`). */
  | { type: "revoke-requested"; name: string; forget: boolean }
  | {
      type: "heartbeat-received";
      agent: string;
      running: readonly AttemptRef[];
      worktreesBytes?: number;
      degraded?: AgentDegraded;
    }
  | { type: "released"; agent: string; taskId: string; attempt: number }
  | { type: "disconnected"; agent: string; connectionId: string }
  | { type: "dispatch-requested"; request: DispatchRequest }
  | { type: "dispatch-withdrawn"; taskId: string }
  /** A task room's task ended: the agents that ran it may remove its worktrees (all but `keep`). */
  | { type: "task-ended"; taskId: string; agents: readonly string[]; keep?: number }
  /** A task room asked to merge an attempt's branch; `requestId` is made by the room (ids stay out of the actor). */
  | { type: "apply-requested"; request: ApplyRequest; requestId: string }
  /** The watchdog's alarm: agents silent for three beats are given up. */
  | { type: "watchdog-ticked" }
  /** Task rooms heard these notices (or have no use for them). */
  | { type: "notices-delivered"; notices: readonly LostNotice[] };

export type RegistryEffect =
  /** Write these agents' records, the queue (pending, assigned and the unserved marks), the lost notices: one put. */
  | { kind: "persist"; agents: readonly string[]; queue: boolean; notices: boolean }
  | { kind: "send"; connectionId: string; message: RegistryToAgent }
  /** Send a `task.assign` with the attempt token the room mints for `agent` (attempt-token.ts). */
  | { kind: "assign"; connectionId: string; agent: string; message: Extract<RegistryToAgent, { type: "task.assign" }> }
  /** Send a `branch.merge` and wait for `agent`'s `branch.merged` of the same request id (agent-calls.ts). */
  | {
      kind: "ask-merge";
      connectionId: string;
      agent: string;
      message: Extract<RegistryToAgent, { type: "branch.merge" }>;
    }
  /** Delete these agents' records (forgotten). */
  | { kind: "forget"; agents: readonly string[] }
  /** An agent enrolled or was refused: one audit record. */
  | { kind: "audit"; action: "agent.enroll" | "agent.hello"; credential: string; outcome: string }
  | { kind: "close"; connectionId: string; code: number; reason: string }
  | { kind: "deliver-notices" }
  | { kind: "notify-dashboards" }
  | { kind: "arm-watchdog" }
  /** Hand webhook events to the notification outbox, without waiting (docs/notifications.md). */
  | { kind: "announce"; events: NotificationEvent[] }
  | { kind: "log"; message: string };

export type RegistryContext = { now: number; heartbeatMs: number; idleFlagS: number; startedAt: number };

export type RegistryDecision = {
  state: RegistryState;
  effects: RegistryEffect[];
  reply?: DispatchReply | RevokeReply | TaskEndedReply | ApplyReply;
};

export function emptyRegistry(): RegistryState {
  return {
    agents: new Map(),
    tiers: TierIndex.of(new Map()),
    connected: new Map(),
    pending: [],
    unserved: {},
    assigned: {},
    lostNotices: [],
  };
}

/** The registry as restored from storage after a restart (no agent is connected yet). */
export function restoredRegistry(
  agents: readonly StoredAgent[],
  pending: readonly DispatchRequest[],
  assigned: Record<string, Assignment>,
  lostNotices: readonly LostNotice[],
  unserved: UnservedSince = {},
): RegistryState {
  const byName = new Map(agents.map((agent) => [agent.name, agent]));
  return {
    agents: byName,
    tiers: TierIndex.of(byName),
    connected: new Map(),
    pending: inServingOrder(pending),
    unserved,
    assigned,
    lostNotices,
  };
}

/** Every agent as listed (with its derived state). */
export function listAgents(state: RegistryState, ctx: RegistryContext): AgentRecord[] {
  return [...state.agents.values()].map((agent) => recordOf(state, agent, ctx));
}

export function recordOf(state: RegistryState, agent: StoredAgent, ctx: RegistryContext): AgentRecord {
  const { credential_sha256: _hash, ...listed } = agent;
  return {
    ...listed,
    state:
      agent.revoked_at !== undefined
        ? "revoked"
        : agentState(state.connected.has(agent.name), agent.last_heartbeat, ctx.now, ctx.heartbeatMs, agent.lost_at),
  };
}

/** Tiers that online agents serve, of those a selector allows (`?view=tiers`). */
export function servedTiers(
  state: RegistryState,
  ctx: RegistryContext,
  name: string | null,
  kind: string | null,
): ExecutorTier[] {
  // One agent by name (the common case of a targeted task): no scan of the fleet.
  const named = name === null ? undefined : state.agents.get(name);
  const pool = name === null ? listAgents(state, ctx) : named === undefined ? [] : [recordOf(state, named, ctx)];
  const usable = pool.filter(
    (agent) =>
      agent.state === "online" && (name === null || agent.name === name) && (kind === null || agent.kind === kind),
  );
  return [...new Set(usable.flatMap((agent) => agent.tiers))];
}

export function withAgent(agents: ReadonlyMap<string, StoredAgent>, agent: StoredAgent): Map<string, StoredAgent> {
  return new Map(agents).set(agent.name, agent);
}
