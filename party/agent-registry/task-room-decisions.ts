import type { RegistryDecision, RegistryEffect, RegistryEvent, RegistryState } from "./registry-state.ts";

/** A task ended: its agents that are connected now are told to release its worktrees. */
export function decideTaskEnded(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "task-ended" }>,
): RegistryDecision {
  // Best effort: an agent not connected now cleans up after its keep time (docs/work-isolation.md).
  const told = event.agents.filter((agent) => state.connected.has(agent));
  const message = {
    type: "worktrees.release" as const,
    task_id: event.taskId,
    ...(event.keep === undefined ? {} : { keep: event.keep }),
  };
  const effects = told.flatMap((agent): RegistryEffect[] => {
    const connectionId = state.connected.get(agent);
    return connectionId === undefined ? [] : [{ kind: "send", connectionId, message }];
  });
  return { state, effects, reply: { told } };
}

/** An apply: the agent that ran the attempt is asked to merge its branch, or the apply is refused if it is offline. */
export function decideApply(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "apply-requested" }>,
): RegistryDecision {
  const { type: _type, agent, ...fields } = event.request;
  const connectionId = state.connected.get(agent);
  if (connectionId === undefined)
    return {
      state,
      effects: [],
      reply: {
        error: {
          code: "agent_offline",
          message: `agent ${agent} ran attempt ${fields.attempt} and is not connected now; start it again, then apply`,
        },
      },
    };
  return {
    state,
    effects: [
      {
        kind: "ask-merge",
        connectionId,
        agent,
        message: { type: "branch.merge", request_id: event.requestId, ...fields },
      },
    ],
    reply: { asked: event.requestId },
  };
}

/** Lost notices their task rooms took (or refused for good) leave the outbox. */
export function decideNoticesDelivered(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "notices-delivered" }>,
): RegistryDecision {
  const done = new Set(event.notices);
  return {
    state: { ...state, lostNotices: state.lostNotices.filter((n) => !done.has(n)) },
    effects: [{ kind: "persist", agents: [], queue: false, notices: true }],
  };
}
