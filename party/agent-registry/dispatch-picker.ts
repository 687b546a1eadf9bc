import type { AgentRecord, DispatchRequest } from "../../protocol/index.ts";

/**
 * Picks the agent for a dispatch: online, serving the tier, with a free slot and matching the
 * selector; among those the least loaded, then by name so the choice is stable. `prefer` falls
 * back to any kind only when no agent of the preferred kind can take it.
 *
 * `exclude_agents` (agents that lost an earlier attempt of the task) is a preference, not a ban: they
 * are passed over while another agent the selector allows serves the tier, even a busy one; when none
 * does (a task pinned to the lost agent by name, or the only agent of its tier), the agent gets the
 * retry once it is back. A hard ban left such tasks queued for nobody (issue 13).
 */
export function pickAgent(agents: readonly AgentRecord[], request: DispatchRequest): AgentRecord | null {
  const excluded = new Set(request.exclude_agents ?? []);
  const selector = request.selector;
  const serving = agents.filter(
    (agent) =>
      agent.state === "online" &&
      agent.tiers.includes(request.assign.tier) &&
      // Capabilities, not versions (issue 12): a worktree task never goes to an agent that cannot make one.
      (request.needs ?? []).every((need) => agent.capabilities?.[need] === true),
  );
  const allowed = (agent: AgentRecord): boolean => (selector.by === "name" ? agent.name === selector.name : selector.by === "kind" ? agent.kind === selector.kind : true);
  const othersServe = serving.some((agent) => allowed(agent) && !excluded.has(agent.name));
  const able = serving.filter((agent) => (!othersServe || !excluded.has(agent.name)) && agent.running.length < agent.capacity);
  let candidates: AgentRecord[];
  switch (selector.by) {
    case "name":
    case "kind":
    case "any":
      candidates = able.filter(allowed);
      break;
    case "prefer": {
      const preferred = able.filter((agent) => agent.kind === selector.kind);
      candidates = preferred.length > 0 ? preferred : able;
      break;
    }
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
