import type { AttemptUnserved, DispatchRequest } from "../../protocol/index.ts";
import { pickAgent, pinnedRefusal } from "./dispatch-picker.ts";
import {
  assignmentKey,
  type RegistryContext,
  type RegistryEffect,
  type RegistryState,
  recordOf,
  type StoredAgent,
} from "./registry-state.ts";

/**
 * Hands pending requests, oldest first, to agents that can take them now. The queue and the agents
 * are persisted before the `task.assign`s in the effects, so the output gate lets no assignment
 * out before it is stored. A request pinned to an agent that cannot make its worktree now leaves the
 * queue at once, its room told `disk_full` (docs/faults.md).
 */
export function handOut(
  state: RegistryState,
  ctx: RegistryContext,
): { state: RegistryState; effects: RegistryEffect[] } {
  if (state.pending.length === 0) return { state, effects: [] };
  const remaining: DispatchRequest[] = [];
  const sends: RegistryEffect[] = [];
  // Copied only once something is handed out.
  let agents: Map<string, StoredAgent> | undefined;
  const changed = new Set<string>();
  let assigned = state.assigned;
  const refused: (AttemptUnserved & { task_id: string })[] = [];
  for (const request of state.pending) {
    const current = agents ?? state.agents;
    const selector = request.selector;
    // A task for one agent looks at that agent only; others read their tier's agents, not the fleet.
    const names =
      selector.by === "name"
        ? current.get(selector.name)?.tiers.includes(request.assign.tier)
          ? [selector.name]
          : []
        : state.tiers.serving(request.assign.tier);
    const candidates = names.flatMap((name) => {
      const agent = current.get(name);
      return agent === undefined ? [] : [recordOf(state, agent, ctx)];
    });
    const refusal = selector.by === "name" ? pinnedRefusal(candidates[0], request) : undefined;
    if (refusal !== undefined) {
      refused.push({
        type: "attempt.unserved",
        task_id: request.assign.task_id,
        attempt: request.assign.attempt,
        message: refusal,
        failure_class: "disk_full",
      });
      continue;
    }
    const picked = pickAgent(candidates, request);
    const connectionId = picked === null ? undefined : state.connected.get(picked.name);
    const agent = picked === null ? undefined : current.get(picked.name);
    if (connectionId === undefined || agent === undefined) {
      remaining.push(request);
      continue;
    }
    agents ??= new Map(state.agents);
    agents.set(agent.name, {
      ...agent,
      running: [...agent.running, { task_id: request.assign.task_id, attempt: request.assign.attempt }],
    });
    assigned = {
      ...assigned,
      [assignmentKey(request.assign.task_id, request.assign.attempt)]: { agent: agent.name, request },
    };
    changed.add(agent.name);
    sends.push({ kind: "assign", connectionId, agent: agent.name, message: request.assign });
  }
  if (changed.size === 0 && refused.length === 0) return { state, effects: [] };
  const gone = new Set(refused.map((notice) => assignmentKey(notice.task_id, notice.attempt)));
  const unserved =
    gone.size === 0
      ? state.unserved
      : Object.fromEntries(Object.entries(state.unserved).filter(([key]) => !gone.has(key)));
  const told: RegistryEffect[] =
    refused.length === 0
      ? []
      : [
          { kind: "deliver-notices" },
          ...refused.map(
            (notice): RegistryEffect => ({
              kind: "log",
              message: `registry: task ${notice.task_id} attempt ${notice.attempt} refused (disk_full): ${notice.message}`,
            }),
          ),
        ];
  return {
    state: {
      ...state,
      agents: agents ?? state.agents,
      pending: remaining,
      assigned,
      unserved,
      lostNotices: [...state.lostNotices, ...refused],
    },
    effects: [
      { kind: "persist", agents: [...changed], queue: true, notices: refused.length > 0 },
      ...sends,
      ...told,
      { kind: "notify-dashboards" },
    ],
  };
}
