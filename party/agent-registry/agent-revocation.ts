import { CloseCode } from "../../protocol/index.ts";
import type {
  LostNotice,
  RegistryContext,
  RegistryDecision,
  RegistryEffect,
  RegistryEvent,
  RegistryState,
} from "./registry-state.ts";
import { TierIndex } from "./tier-index.ts";

/**
 * Revoke (or forget) an agent: closed now, its attempts lost (their rooms retry them elsewhere), refused from now on.
 */
export function decideRevoke(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "revoke-requested" }>,
  ctx: RegistryContext,
): RegistryDecision {
  const agent = state.agents.get(event.name);
  if (agent === undefined)
    return {
      state,
      effects: [],
      reply: { error: { code: "not_found", message: `no agent named ${event.name}; GET /api/agents lists them` } },
    };
  const reason = `agent ${agent.name} was ${event.forget ? "forgotten" : "revoked"}`;
  const notices: LostNotice[] = agent.running.map((ref) => ({
    type: "attempt.lost",
    task_id: ref.task_id,
    attempt: ref.attempt,
    agent: agent.name,
    reason,
  }));
  const connectionId = state.connected.get(agent.name);
  const connected = new Map(state.connected);
  connected.delete(agent.name);
  const agents = new Map(state.agents);
  if (event.forget) agents.delete(agent.name);
  else agents.set(agent.name, { ...agent, running: [], revoked_at: ctx.now });
  const next: RegistryState = {
    ...state,
    agents,
    tiers: TierIndex.of(agents),
    connected,
    // Requests handed to it go back to the queue only through their rooms (the lost notice): the room decides the
    // retry.
    assigned: Object.fromEntries(Object.entries(state.assigned).filter(([, a]) => a.agent !== agent.name)),
    lostNotices: [...state.lostNotices, ...notices],
  };
  const effects: RegistryEffect[] = [];
  if (connectionId !== undefined) {
    effects.push({
      kind: "send",
      connectionId,
      message: {
        type: "error",
        code: "agent_revoked",
        message: `${reason} by the mesh's operator; it is refused from now on`,
      },
    });
    effects.push({ kind: "close", connectionId, code: CloseCode.forbidden, reason: "agent_revoked" });
  }
  effects.push(
    event.forget
      ? { kind: "forget", agents: [agent.name] }
      : { kind: "persist", agents: [agent.name], queue: false, notices: false },
  );
  effects.push(
    { kind: "persist", agents: [], queue: true, notices: true },
    { kind: "deliver-notices" },
    { kind: "notify-dashboards" },
    { kind: "log", message: `registry: ${reason}; ${notices.length} attempt(s) given back to their task rooms` },
  );
  return {
    state: next,
    effects,
    reply: { name: agent.name, state: event.forget ? "forgotten" : "revoked", requeued: notices.length },
  };
}
