import { type AgentDegraded, type AgentHello, CloseCode, type ErrorBody } from "../../protocol/index.ts";
import { agentLostNotice } from "./agent-notices.ts";
import { heartbeatExpired } from "./dispatch-picker.ts";
import { enqueue, expireUnserved, inServingOrder } from "./dispatch-queue.ts";
import { handOut } from "./hand-out.ts";
import {
  assignmentKey,
  type HelloIdentity,
  type LostNotice,
  listAgents,
  type RegistryContext,
  type RegistryDecision,
  type RegistryEffect,
  type RegistryEvent,
  type RegistryState,
  type StoredAgent,
  withAgent,
} from "./registry-state.ts";
import { TierIndex } from "./tier-index.ts";

export * from "./registry-state.ts";

export function decideRegistry(state: RegistryState, event: RegistryEvent, ctx: RegistryContext): RegistryDecision {
  switch (event.type) {
    case "hello-received": {
      const refusal = refusedHello(state, event);
      if (refusal === null) return onHello(state, event.hello, event.connectionId, event.identity, ctx);
      return {
        state,
        effects: [
          {
            kind: "send",
            connectionId: event.connectionId,
            message: { type: "error", ...refusal.error, in_reply_to: "agent.hello" },
          },
          { kind: "close", connectionId: event.connectionId, code: refusal.close, reason: refusal.error.code },
          {
            kind: "audit",
            action: event.identity.via === "enrollment" ? "agent.enroll" : "agent.hello",
            credential: credentialOf(event.identity),
            outcome: `refused ${event.hello.name}: ${refusal.error.code}`,
          },
        ],
      };
    }
    case "revoke-requested":
      return onRevoke(state, event, ctx);
    case "heartbeat-received": {
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
    case "released":
      return onReleased(state, event, ctx);
    case "disconnected": {
      if (state.connected.get(event.agent) !== event.connectionId) return { state, effects: [] };
      const connected = new Map(state.connected);
      connected.delete(event.agent);
      return { state: { ...state, connected }, effects: [{ kind: "notify-dashboards" }] };
    }
    case "dispatch-requested": {
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
    case "dispatch-withdrawn": {
      const pending = state.pending.filter((request) => request.assign.task_id !== event.taskId);
      if (pending.length === state.pending.length) return { state, effects: [] };
      return { state: { ...state, pending }, effects: [{ kind: "persist", agents: [], queue: true, notices: false }] };
    }
    case "task-ended": {
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
    case "apply-requested": {
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
    case "watchdog-ticked":
      return onTick(state, ctx);
    case "notices-delivered": {
      const done = new Set(event.notices);
      return {
        state: { ...state, lostNotices: state.lostNotices.filter((n) => !done.has(n)) },
        effects: [{ kind: "persist", agents: [], queue: false, notices: true }],
      };
    }
  }
}

/** What an agent says it cannot use now; undefined when nothing. */
function degradedOf(degraded: AgentDegraded | undefined): AgentDegraded | undefined {
  return degraded?.worktree === undefined ? undefined : degraded;
}

function credentialOf(identity: HelloIdentity): string {
  return identity.via === "enrollment" ? `enrollment:${identity.tokenName}` : `agent:${identity.agent}`;
}

/**
 * Whether this hello may register (docs/agent-identity.md): a name belongs to the credential that first took it;
 * an enrollment token takes only a free name; a revoked name is refused until it is forgotten.
 */
function refusedHello(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "hello-received" }>,
): { error: ErrorBody; close: number } | null {
  const { hello, identity } = event;
  const known = state.agents.get(hello.name);
  const refuse = (code: ErrorBody["code"], message: string, close: number = CloseCode.forbidden) => ({
    error: { code, message },
    close,
  });
  if (known?.revoked_at !== undefined)
    return refuse(
      "agent_revoked",
      `agent ${hello.name} was revoked; enroll under a new name, or ask the mesh's operator to DELETE /api/agents/${hello.name} first`,
    );
  if (identity.via === "enrollment") {
    return known?.credential_sha256 === undefined
      ? null
      : refuse(
          "name_taken",
          `the name ${hello.name} belongs to another agent's credential; pick another --name, or give this agent that agent's state directory`,
        );
  }
  if (identity.agent !== hello.name)
    return refuse("unauthorized", `this credential is agent ${identity.agent}'s; it cannot say hello as ${hello.name}`);
  if (known?.credential_sha256 === undefined)
    return refuse(
      "credential_unknown",
      `the mesh has no agent ${hello.name} with this credential (it was forgotten, or this is another mesh); enroll again with MESH_AGENT_TOKEN`,
      CloseCode.credentialUnknown,
    );
  return known.credential_sha256 === identity.credentialHash
    ? null
    : refuse("unauthorized", `wrong credential for agent ${hello.name}`);
}

/**
 * Revoke (or forget) an agent: closed now, its attempts lost (their rooms retry them elsewhere), refused from now on.
 */
function onRevoke(
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

function onHello(
  state: RegistryState,
  hello: AgentHello,
  connectionId: string,
  identity: HelloIdentity,
  ctx: RegistryContext,
): RegistryDecision {
  const effects: RegistryEffect[] = [];
  const previous = state.connected.get(hello.name);
  if (previous !== undefined && previous !== connectionId)
    effects.push({
      kind: "close",
      connectionId: previous,
      code: CloseCode.replaced,
      reason: `agent ${hello.name} connected again elsewhere`,
    });
  const known = state.agents.get(hello.name);
  // A new hello clears a `lost_at`: the agent is back. Its own report of what it runs is the truth
  // after a (re)connect; a task room refuses any attempt that is no longer the agent's.
  const agent: StoredAgent = {
    name: hello.name,
    kind: hello.kind,
    tiers: hello.tiers,
    capacity: hello.capacity,
    version: hello.version,
    registered_at: known?.registered_at ?? ctx.now,
    last_heartbeat: ctx.now,
    running: hello.running,
    ...(hello.capabilities === undefined ? {} : { capabilities: hello.capabilities }),
    ...(hello.unavailable === undefined || Object.keys(hello.unavailable).length === 0
      ? {}
      : { unavailable: hello.unavailable }),
    ...(degradedOf(hello.degraded) === undefined ? {} : { degraded: hello.degraded }),
    ...(known?.worktrees_bytes === undefined ? {} : { worktrees_bytes: known.worktrees_bytes }),
    ...(identity.via === "enrollment"
      ? { enrolled_by: identity.tokenName }
      : known?.enrolled_by === undefined
        ? {}
        : { enrolled_by: known.enrolled_by }),
    credential_sha256: identity.credentialHash,
  };
  // Assignments the agent does not report never reached it (or it lost them): hand them out again.
  const reported = new Set(hello.running.map((ref) => assignmentKey(ref.task_id, ref.attempt)));
  const dropped = Object.entries(state.assigned).filter(([key, a]) => a.agent === hello.name && !reported.has(key));
  const droppedKeys = new Set(dropped.map(([key]) => key));
  const agents = withAgent(state.agents, agent);
  const sameTiers = known !== undefined && known.tiers.join() === hello.tiers.join() && known.kind === hello.kind;
  const next: RegistryState = {
    ...state,
    agents,
    tiers: sameTiers ? state.tiers : TierIndex.of(agents),
    connected: new Map(state.connected).set(hello.name, connectionId),
    // They had their turn: first again within their priority.
    pending:
      dropped.length === 0 ? state.pending : inServingOrder([...dropped.map(([, a]) => a.request), ...state.pending]),
    assigned:
      dropped.length === 0
        ? state.assigned
        : Object.fromEntries(Object.entries(state.assigned).filter(([key]) => !droppedKeys.has(key))),
  };
  effects.push({ kind: "persist", agents: [hello.name], queue: true, notices: false });
  // The credential leaves only after its hash is stored (output gate): an agent never holds one the mesh forgot.
  if (identity.via === "enrollment") {
    effects.push(
      {
        kind: "send",
        connectionId,
        message: { type: "agent.enrolled", name: hello.name, credential: identity.credential },
      },
      { kind: "audit", action: "agent.enroll", credential: credentialOf(identity), outcome: `enrolled ${hello.name}` },
    );
  }
  effects.push(
    {
      kind: "send",
      connectionId,
      message: { type: "agent.welcome", heartbeat_s: ctx.heartbeatMs / 1000, idle_flag_s: ctx.idleFlagS },
    },
    { kind: "notify-dashboards" },
    { kind: "arm-watchdog" },
  );
  const handed = handOut(next, ctx);
  return { state: handed.state, effects: [...effects, ...handed.effects] };
}

function onReleased(
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

/**
 * The watchdog: gives up agents that missed three heartbeats; their attempts become `agent_lost` in their task rooms.
 */
function onTick(state: RegistryState, ctx: RegistryContext): RegistryDecision {
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
