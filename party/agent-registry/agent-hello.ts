import { type AgentDegraded, type AgentHello, CloseCode, type ErrorBody } from "../../protocol/index.ts";
import { inServingOrder } from "./dispatch-queue.ts";
import { handOut } from "./hand-out.ts";
import {
  assignmentKey,
  type HelloIdentity,
  type RegistryContext,
  type RegistryDecision,
  type RegistryEffect,
  type RegistryEvent,
  type RegistryState,
  type StoredAgent,
  withAgent,
} from "./registry-state.ts";
import { TierIndex } from "./tier-index.ts";

/** An agent's hello: refused (with why, and the socket closed), or registered and welcomed (docs/agent-registry.md). */
export function decideHello(
  state: RegistryState,
  event: Extract<RegistryEvent, { type: "hello-received" }>,
  ctx: RegistryContext,
): RegistryDecision {
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

/** What an agent says it cannot use now; undefined when nothing. */
export function degradedOf(degraded: AgentDegraded | undefined): AgentDegraded | undefined {
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
