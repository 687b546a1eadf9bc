import { degradedOf } from "./agent-hello.ts";
import { handOut } from "./hand-out.ts";
import {
  assignmentKey,
  type RegistryContext,
  type RegistryDecision,
  type RegistryEffect,
  type RegistryEvent,
  type RegistryState,
  type StoredAgent,
} from "./registry-state.ts";

/** A heartbeat: acknowledged, the agent's report of its attempts and its degraded state stored. */
export function decideHeartbeat(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "heartbeat-received" }>,
  ctx: RegistryContext,
): RegistryDecision {
  const agent = state.agents.get(event.agent);
  if (agent === undefined) return { state, effects: [] };
  // The agent's report refreshes what it says of attempts the registry assigned to it.
  const reports = new Map(event.running.map((ref) => [assignmentKey(ref.task_id, ref.attempt), ref]));
  const { degraded: _was, ...rest } = agent;
  const degraded = degradedOf(event.degraded);
  const beat: StoredAgent = {
    ...rest,
    last_heartbeat: ctx.now,
    running: agent.running.map((ref) => reports.get(assignmentKey(ref.task_id, ref.attempt)) ?? ref),
    ...(event.worktreesBytes === undefined ? {} : { worktrees_bytes: event.worktreesBytes }),
    ...(degraded === undefined ? {} : { degraded }),
  };
  const connectionId = state.connected.get(event.agent);
  const effects: RegistryEffect[] =
    connectionId === undefined
      ? []
      : [{ kind: "send", connectionId, message: { type: "heartbeat.ack", server_time: ctx.now } }];
  effects.push({ kind: "notify-dashboards" });
  if (state.lostNotices.length > 0) effects.push({ kind: "deliver-notices" });
  state.agents.set(beat.name, beat);
  // Degraded or well again (docs/faults.md): stored, and once well, the requests it can take now go to it.
  if (JSON.stringify(agent.degraded ?? {}) === JSON.stringify(degraded ?? {})) return { state, effects };
  const handed = handOut(state, ctx);
  return {
    state: handed.state,
    effects: [
      ...effects,
      { kind: "persist", agents: [beat.name], queue: false, notices: false },
      ...handed.effects,
      {
        kind: "log",
        message: `registry: agent ${beat.name} ${degraded?.worktree === undefined ? "makes worktrees again" : `makes no worktrees for now: ${degraded.worktree}`}`,
      },
    ],
  };
}

/** An agent's socket closed: it is offline, unless a newer socket of the same agent already took its place. */
export function decideDisconnect(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "disconnected" }>,
): RegistryDecision {
  if (state.connected.get(event.agent) !== event.connectionId) return { state, effects: [] };
  const connected = new Map(state.connected);
  connected.delete(event.agent);
  return { state: { ...state, connected }, effects: [{ kind: "notify-dashboards" }] };
}
