import type { AgentRecord, AgentSelector, DispatchRequest } from "../../protocol/index.ts";

/**
 * Picks the agent for a dispatch: online, serving the tier, with a free slot and matching the
 * selector; among those the least loaded, then by name so the choice is stable. `prefer` falls
 * back to any kind only when no agent of the preferred kind can take it.
 *
 * `exclude_agents` (agents that lost an earlier attempt of the task) is a preference, not a ban: they
 * are passed over while another agent the selector allows serves the tier, even a busy one; when none
 * does (a task pinned to the lost agent by name, or the only agent of its tier), the agent gets the
 * retry once it is back. A hard ban left such tasks queued for nobody.
 */
export function pickAgent(agents: readonly AgentRecord[], request: DispatchRequest): AgentRecord | null {
  const excluded = new Set(request.exclude_agents ?? []);
  const selector = request.selector;
  const serving = agents.filter((agent) => servesRequest(agent, request, false));
  const othersServe = serving.some((agent) => selectorAllows(agent, selector) && !excluded.has(agent.name));
  const able = serving.filter(
    (agent) => (!othersServe || !excluded.has(agent.name)) && agent.running.length < agent.capacity,
  );
  let candidates: AgentRecord[];
  switch (selector.by) {
    case "name":
    case "kind":
    case "any":
      candidates = able.filter((agent) => selectorAllows(agent, selector));
      break;
    case "prefer": {
      const preferred = able.filter((agent) => agent.kind === selector.kind);
      candidates = preferred.length > 0 ? preferred : able;
      break;
    }
  }
  // A resumed attempt goes to the agent holding its session and worktree when that one can take it now
  // (docs/resume.md).
  const holder =
    request.prefer_agent === undefined ? undefined : candidates.find((agent) => agent.name === request.prefer_agent);
  if (holder !== undefined) return holder;
  candidates.sort(
    (a, b) => a.running.length / a.capacity - b.running.length / b.capacity || a.name.localeCompare(b.name),
  );
  return candidates[0] ?? null;
}

/** Whether the selector lets this agent take the task (`prefer` allows any agent). */
export function selectorAllows(agent: AgentRecord, selector: AgentSelector): boolean {
  return selector.by === "name"
    ? agent.name === selector.name
    : selector.by === "kind"
      ? agent.kind === selector.kind
      : true;
}

/**
 * Whether an agent could ever take the request, busy or not: online, serving its tier, with the
 * capabilities it needs and can use now (never a worktree task to an agent that cannot make one) and, with
 * `bySelector`, allowed by its selector.
 */
export function servesRequest(agent: AgentRecord, request: DispatchRequest, bySelector = true): boolean {
  return (
    agent.state === "online" &&
    agent.tiers.includes(request.assign.tier) &&
    // A capability it cannot use now (its worktrees directory is full, docs/faults.md) counts as absent until it
    // recovers.
    (request.needs ?? []).every(
      (need) => agent.capabilities?.[need] === true && agent.degraded?.[need] === undefined,
    ) &&
    (!bySelector || selectorAllows(agent, request.selector))
  );
}

/**
 * Why a request pinned by name (`agent: "<name>"`) is refused at once rather than queued: its agent
 * is connected, serves the tier and has every capability the request needs, but cannot use one now
 * (its worktrees directory is read-only, full or not a directory, docs/faults.md). No other agent may
 * take it, so waiting would only run out its queue timeout. Undefined when the request may wait.
 */
export function pinnedRefusal(agent: AgentRecord | undefined, request: DispatchRequest): string | undefined {
  if (request.selector.by !== "name" || agent?.name !== request.selector.name) return undefined;
  if ((agent.state !== "online" && agent.state !== "stale") || !agent.tiers.includes(request.assign.tier))
    return undefined;
  const needs = request.needs ?? [];
  if (!needs.every((need) => agent.capabilities?.[need] === true)) return undefined;
  const reasons = needs.flatMap((need) => agent.degraded?.[need] ?? []);
  if (reasons.length === 0) return undefined;
  return `agent ${agent.name} cannot make the attempt's worktree now: ${reasons.join("; ")}. The task is pinned to it (agent "${agent.name}"), so it was not left waiting: once the directory works again (the agent notices within seconds, no restart), create the task again; or create it without agent, so another agent takes it`;
}

/**
 * Lost once the watchdog gave it up (until it says hello again); offline once its socket is gone;
 * online while heartbeats arrive; stale when a beat is late but the watchdog has not acted yet.
 */
export function agentState(
  connected: boolean,
  lastHeartbeat: number,
  now: number,
  heartbeatMs: number,
  lostAt?: number,
): AgentRecord["state"] {
  if (lostAt !== undefined) return "lost";
  if (!connected) return "offline";
  return now - lastHeartbeat <= 2 * heartbeatMs ? "online" : "stale";
}

/**
 * Whether the watchdog should give an agent up: three beats missed, counted from the later of its last beat and the
 * registry's start.
 */
export function heartbeatExpired(lastHeartbeat: number, since: number, now: number, heartbeatMs: number): boolean {
  return now - Math.max(lastHeartbeat, since) > 3 * heartbeatMs;
}
