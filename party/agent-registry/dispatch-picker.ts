import type { AgentRecord, DispatchRequest } from "../../protocol/index.ts";

/**
 * Picks the agent for a dispatch: online, serving the tier, with a free slot and matching the
 * selector; among those the least loaded, then by name so the choice is stable. `prefer` falls
 * back to any kind only when no agent of the preferred kind can take it.
 */
export function pickAgent(agents: readonly AgentRecord[], request: DispatchRequest): AgentRecord | null {
  const excluded = new Set(request.exclude_agents ?? []);
  const able = agents.filter(
    (agent) =>
      agent.state === "online" &&
      !excluded.has(agent.name) &&
      agent.tiers.includes(request.assign.tier) &&
      agent.running.length < agent.capacity &&
      // Capabilities, not versions (issue 12): a worktree task never goes to an agent that cannot make one.
      (request.needs ?? []).every((need) => agent.capabilities?.[need] === true),
  );
  const selector = request.selector;
  let candidates: AgentRecord[];
  switch (selector.by) {
    case "name":
      candidates = able.filter((agent) => agent.name === selector.name);
      break;
    case "kind":
      candidates = able.filter((agent) => agent.kind === selector.kind);
      break;
    case "prefer": {
      const preferred = able.filter((agent) => agent.kind === selector.kind);
      candidates = preferred.length > 0 ? preferred : able;
      break;
    }
    case "any":
      candidates = able;
      break;
  }
  candidates.sort((a, b) => a.running.length / a.capacity - b.running.length / b.capacity || a.name.localeCompare(b.name));
  return candidates[0] ?? null;
}

/**
 * Lost once the watchdog gave it up (until it says hello again); offline once its socket is gone;
 * online while heartbeats arrive; stale when a beat is late but the watchdog has not acted yet.
 */
export function agentState(connected: boolean, lastHeartbeat: number, now: number, heartbeatMs: number, lostAt?: number): AgentRecord["state"] {
  if (lostAt !== undefined) return "lost";
  if (!connected) return "offline";
  return now - lastHeartbeat <= 2 * heartbeatMs ? "online" : "stale";
}

/** Whether the watchdog should give an agent up: three beats missed, counted from the later of its last beat and the registry's start. */
export function heartbeatExpired(lastHeartbeat: number, since: number, now: number, heartbeatMs: number): boolean {
  return now - Math.max(lastHeartbeat, since) > 3 * heartbeatMs;
}
