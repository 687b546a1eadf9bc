import { CloseCode } from "../../protocol/index.ts";
import { agentLostNotice } from "./agent-notices.ts";
import { heartbeatExpired } from "./dispatch-picker.ts";
import { expireUnserved } from "./dispatch-queue.ts";
import {
  type LostNotice,
  listAgents,
  type RegistryContext,
  type RegistryDecision,
  type RegistryEffect,
  type RegistryState,
  withAgent,
} from "./registry-state.ts";

/**
 * The watchdog: gives up agents that missed three heartbeats; their attempts become `agent_lost` in their task rooms.
 */
export function decideWatchdogTick(state: RegistryState, ctx: RegistryContext): RegistryDecision {
  let next = state;
  const effects: RegistryEffect[] = [];
  for (const agent of state.agents.values()) {
    const watched = state.connected.has(agent.name) || agent.running.length > 0;
    if (
      agent.lost_at !== undefined ||
      !watched ||
      !heartbeatExpired(agent.last_heartbeat, ctx.startedAt, ctx.now, ctx.heartbeatMs)
    )
      continue;
    const reason = `agent ${agent.name} missed three heartbeats (${(3 * ctx.heartbeatMs) / 1000} s)`;
    const notices: LostNotice[] = agent.running.map((ref) => ({
      type: "attempt.lost",
      task_id: ref.task_id,
      attempt: ref.attempt,
      agent: agent.name,
      reason,
    }));
    const connectionId = next.connected.get(agent.name);
    const connected = new Map(next.connected);
    connected.delete(agent.name);
    next = {
      ...next,
      agents: withAgent(next.agents, { ...agent, running: [], lost_at: ctx.now }),
      connected,
      assigned: Object.fromEntries(Object.entries(next.assigned).filter(([, a]) => a.agent !== agent.name)),
      lostNotices: [...next.lostNotices, ...notices],
    };
    if (connectionId !== undefined)
      effects.push({ kind: "close", connectionId, code: CloseCode.heartbeatTimeout, reason: "heartbeat timeout" });
    effects.push(
      { kind: "persist", agents: [agent.name], queue: true, notices: true },
      { kind: "log", message: `registry: ${reason}; ${notices.length} attempt(s) lost` },
      { kind: "notify-dashboards" },
      { kind: "announce", events: [agentLostNotice(agent.name, reason, notices.length, ctx.now)] },
    );
  }
  const expiry =
    next.pending.length === 0 && Object.keys(next.unserved).length === 0
      ? null
      : expireUnserved(next.pending, next.unserved, listAgents(next, ctx), ctx.now, (request) =>
          request.selector.by === "name" ? [request.selector.name] : next.tiers.serving(request.assign.tier),
        );
  if (expiry?.changed === true) {
    const notices: LostNotice[] = expiry.expired.map(({ request, message }) => ({
      type: "attempt.unserved",
      task_id: request.assign.task_id,
      attempt: request.assign.attempt,
      message,
    }));
    next = {
      ...next,
      pending: expiry.pending,
      unserved: expiry.unserved,
      lostNotices: [...next.lostNotices, ...notices],
    };
    effects.push({ kind: "persist", agents: [], queue: true, notices: notices.length > 0 });
    for (const { request, message } of expiry.expired)
      effects.push({
        kind: "log",
        message: `registry: task ${request.assign.task_id} attempt ${request.assign.attempt}: ${message}`,
      });
  }
  effects.push({ kind: "deliver-notices" }, { kind: "arm-watchdog" });
  return { state: next, effects };
}
