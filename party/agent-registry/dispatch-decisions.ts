import { enqueue } from "./dispatch-queue.ts";
import { handOut } from "./hand-out.ts";
import {
  assignmentKey,
  type LostNotice,
  type RegistryContext,
  type RegistryDecision,
  type RegistryEffect,
  type RegistryEvent,
  type RegistryState,
  type StoredAgent,
  withAgent,
} from "./registry-state.ts";

/** A task room's dispatch request: queued once, handed out at once when an agent can take it. */
export function decideDispatch(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "dispatch-requested" }>,
  ctx: RegistryContext,
): RegistryDecision {
  const { task_id, attempt } = event.request.assign;
  // A task room may ask again (after its restart): a request already queued or handed out is not added twice.
  const duplicate =
    state.pending.some((p) => p.assign.task_id === task_id && p.assign.attempt === attempt) ||
    state.assigned[assignmentKey(task_id, attempt)] !== undefined;
  const queued = duplicate ? state : { ...state, pending: enqueue(state.pending, event.request) };
  const handed = handOut(queued, ctx);
  const holder = handed.state.assigned[assignmentKey(task_id, attempt)]?.agent;
  const effects: RegistryEffect[] =
    handed.effects.length > 0
      ? handed.effects
      : duplicate
        ? []
        : [{ kind: "persist", agents: [], queue: true, notices: false }];
  // A queued request is watched for its queue timeout, even with no agent connected (and a refused one's notice is
  // retried by the watchdog).
  if (holder === undefined && !duplicate) effects.push({ kind: "arm-watchdog" });
  const waiting = handed.state.pending.some((p) => p.assign.task_id === task_id && p.assign.attempt === attempt);
  return {
    state: handed.state,
    effects,
    reply: { queued: waiting, ...(holder === undefined ? {} : { agent: holder }) },
  };
}

/** A cancelled task's waiting requests leave the queue. */
export function decideWithdrawal(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "dispatch-withdrawn" }>,
): RegistryDecision {
  const pending = state.pending.filter((request) => request.assign.task_id !== event.taskId);
  if (pending.length === state.pending.length) return { state, effects: [] };
  return { state: { ...state, pending }, effects: [{ kind: "persist", agents: [], queue: true, notices: false }] };
}

export function decideRelease(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "released" }>,
  ctx: RegistryContext,
): RegistryDecision {
  const agent = state.agents.get(event.agent);
  if (agent === undefined) return { state, effects: [] };
  const freed: StoredAgent = {
    ...agent,
    running: agent.running.filter((ref) => !(ref.task_id === event.taskId && ref.attempt === event.attempt)),
  };
  const { [assignmentKey(event.taskId, event.attempt)]: _released, ...assigned } = state.assigned;
  // Every release is also told to the task room as a possible loss: an attempt the agent refused,
  // or gave up on without the room confirming its end, must not stay open for ever. The room
  // answers 409 for an attempt that already ended, and the notice is dropped.
  const notice: LostNotice = {
    type: "attempt.lost",
    task_id: event.taskId,
    attempt: event.attempt,
    agent: event.agent,
    reason: `agent ${event.agent} released the attempt without the task room recording its end`,
  };
  const next: RegistryState = {
    ...state,
    agents: withAgent(state.agents, freed),
    assigned,
    lostNotices: [...state.lostNotices, notice],
  };
  const handed = handOut(next, ctx);
  return {
    state: handed.state,
    effects: [
      { kind: "persist", agents: [event.agent], queue: true, notices: true },
      { kind: "deliver-notices" },
      ...handed.effects,
    ],
  };
}
