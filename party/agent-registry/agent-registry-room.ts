import type * as Party from "partykit/server";
import {
  AGENT_CREDENTIAL_PREFIX,
  AgentToRegistry,
  type ApplyRequest,
  CloseCode,
  PartyName,
  PROTOCOL_VERSION,
  RegistryCommand,
  type RegistryToAgent,
  type RegistryToDashboard,
  SINGLETON_ROOM_ID,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { mintAttemptToken } from "../auth/attempt-token.ts";
import { type Caller, readSecrets } from "../auth/credentials.ts";
import { callerOf, roleOf, type SocketRole } from "../auth/room-gate.ts";
import { randomSecret, sha256Hex } from "../auth/signing.ts";
import { errorResponse, json } from "../http/responses.ts";
import { FLOOD_LIMITS } from "../limits/flood-guard.ts";
import { LiveSockets } from "../live-sockets.ts";
import { type Channel, MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { DispatchHistogram, registryMetrics } from "../metrics/registry-metrics.ts";
import { announce } from "../notification-outbox/announce.ts";
import { askRoom, PEER_QUERY, sendToTask } from "../room-peers.ts";
import { AgentRequests } from "./agent-requests.ts";
import { queueView } from "./dispatch-queue.ts";
import {
  decideRegistry,
  emptyRegistry,
  type HelloIdentity,
  type LostNotice,
  listAgents,
  type RegistryContext,
  type RegistryDecision,
  type RegistryEffect,
  type RegistryEvent,
  type RegistryState,
  servedTiers,
} from "./registry-actor.ts";
import { agentKeys, loadRegistry, persistedWrites } from "./registry-storage.ts";

/** The watchdog's tick: an agent is given up at most this long after its third missed beat. */
const WATCHDOG_TICK_MS = 1000;
/** A tick this much later than the last one means the registry itself did not run in between. */
const STALL_GAP_MS = 2 * WATCHDOG_TICK_MS;
/**
 * What an agent's socket may send, and a task room's dispatch socket: heartbeats, releases, answers, requests
 * (docs/rooms.md "Flood limits").
 */
const AGENT_CHANNEL: Channel<AgentToRegistry | RegistryCommand> = {
  schema: AgentToRegistry,
  perSecond: FLOOD_LIMITS.agentOnRegistry,
};
const PEER_CHANNEL: Channel<AgentToRegistry | RegistryCommand> = {
  schema: RegistryCommand,
  perSecond: FLOOD_LIMITS.agentOnRegistry,
};
/** Dashboards get at most one agents snapshot per this many ms (heartbeats would flood them). */
const DASHBOARD_THROTTLE_MS = 1000;

/**
 * The agent registry (one room, id "main"): agents register over a persistent socket and
 * heartbeat; dispatch requests wait here, oldest first, until an agent that serves their tier has
 * a free slot. The registry actor (`registry-actor.ts`) decides; this room routes and carries out
 * its effects. Records and pending requests live in storage and survive restarts.
 *
 * Writes are issued, not awaited, before the sends that follow them: the output gate holds a
 * room's outgoing messages until the writes before them are durable (docs/output-gate.md), so no
 * `task.assign` leaves before its assignment is stored.
 */
export default class AgentRegistryRoom extends MeshRoom<
  RegistryCommand,
  AgentToRegistry | RegistryCommand,
  RegistryToAgent
> {
  // Agents, and task rooms' dispatch sockets; dashboards follow the fleet feed (party/fleet-feed), not this room.
  // Agents present an enrollment token or their own credential here; attempt tokens open task rooms only.
  static override readonly sockets: SocketPolicy = {
    open: true,
    admits: (caller, _lobby, url) =>
      (caller.role === "agent" && caller.via !== "attempt") ||
      (caller.role === "orchestrator" && url.search.includes(PEER_QUERY)),
  };
  protected readonly commands = RegistryCommand;
  private state: RegistryState = emptyRegistry();
  /**
   * Open sockets: role, and for agents the name it said hello with. Sends go through these socket objects, never
   * `getConnection` (live-sockets.ts).
   */
  private readonly sessions = new LiveSockets<{ role: SocketRole; agent?: string; peer?: true; caller?: Caller }>();
  private delivering = false;
  private readonly requests = new AgentRequests({
    connected: (agent) => this.state.connected.has(agent),
    send: (agent, message) => this.sendToAgent(agent, message),
    toTask: (taskId, message) => {
      const secrets = readSecrets(this.room.env);
      return this.parties === null || "code" in secrets
        ? Promise.resolve()
        : sendToTask(this.parties, secrets.orchestratorToken, taskId, message);
    },
  });
  private dashboardTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly dispatchWaits = new DispatchHistogram({
    get: (key) => this.room.storage.get(key),
    put: (key, value) => this.room.storage.put(key, value),
  }); // GET /metrics (docs/metrics.md)
  /**
   * Whether a dashboard follows the fleet feed (the feed's replies say); no pushes while nobody does.
   * True at start: a registry that restarted alone pushes once, so dashboards that stayed connected to
   * the feed are not left with an old snapshot, and the reply says whether anyone watches.
   */
  private feedWatched = true;
  /**
   * Heartbeats are counted from here, not from before it: the instance's start, or the end of a stall
   * of the registry itself (its watchdog's tick came late: the process was stopped, the machine
   * slept). A registry that did not run cannot tell a dead agent from its own silence.
   */
  private beatsCountedFrom = Date.now();
  /** When the watchdog last ticked. */
  private lastTickAt = Date.now();
  /**
   * The other rooms, kept from the last request or connection: PartyKit hides them inside `onAlarm`,
   * and the watchdog runs there.
   */
  private parties: Party.Context["parties"] | null = null;

  async onStart(): Promise<void> {
    // What does not parse is dropped and logged (registry-storage.ts): a corrupt record never stops the registry.
    this.state = (await loadRegistry(this.room.storage)).state;
    await this.armWatchdog();
  }

  /** The watchdog, on a room alarm (not a timer that dies with the room). */
  async onAlarm(): Promise<void> {
    const now = Date.now();
    if (now - this.lastTickAt > STALL_GAP_MS) this.beatsCountedFrom = now;
    this.lastTickAt = now;
    await this.run({ type: "watchdog-ticked" });
  }

  onConnect(connection: Party.Connection, context: Party.ConnectionContext): void {
    this.parties ??= this.room.context.parties;
    const role = roleOf(context);
    if (role === null) return connection.close(CloseCode.forbidden, "no role");
    // A task room's socket (registry-socket.ts) carries dispatch requests.
    const peer = role === "orchestrator" && new URL(context.request.url).search.includes(PEER_QUERY);
    if (role !== "agent" && !peer)
      return connection.close(CloseCode.forbidden, "dashboards follow /parties/fleet/main");
    const caller = callerOf(context);
    if (role === "agent" && (caller === null || caller.role !== "agent" || caller.via === "attempt"))
      return connection.close(CloseCode.forbidden, "an agent registers with an enrollment token or its own credential");
    const stale = this.sessions.add(connection, {
      role,
      ...(peer ? { peer: true as const } : {}),
      ...(caller === null ? {} : { caller }),
    });
    stale?.close(CloseCode.replaced, "a newer socket took this connection id");
  }

  async onClose(connection: Party.Connection): Promise<void> {
    // A stale socket's close (an older socket under the same id) changes nothing.
    const session = this.sessions.remove(connection);
    if (session?.agent === undefined) return;
    if (this.state.connected.get(session.agent) === connection.id) this.requests.dropAgent(session.agent);
    await this.run({ type: "disconnected", agent: session.agent, connectionId: connection.id });
  }

  /** A socket the room tracks: a task room's dispatch socket, or an agent's; a replaced one's frames are ignored. */
  protected override channelOf(connection: Party.Connection): Channel<AgentToRegistry | RegistryCommand> | null {
    const session = this.sessions.infoOf(connection);
    return session === undefined ? null : session.peer === true ? PEER_CHANNEL : AGENT_CHANNEL;
  }

  protected override async onSocketMessage(
    message: AgentToRegistry | RegistryCommand,
    connection: Party.Connection,
  ): Promise<void> {
    const session = this.sessions.infoOf(connection);
    if (session === undefined) return;
    if (session.peer === true) {
      if (message.type !== "dispatch.request")
        return this.send(connection, {
          type: "error",
          code: "unknown_type",
          message: "a task room's socket carries dispatch.request only",
        });
      await this.run({ type: "dispatch-requested", request: message });
      return;
    }
    if (message.type === "agent.hello") {
      if (!SUPPORTED_PROTOCOL_VERSIONS.includes(message.protocol_version)) {
        this.send(connection, {
          type: "error",
          code: "unsupported_version",
          message: `protocol ${message.protocol_version} is not supported; this mesh speaks ${PROTOCOL_VERSION}: upgrade the agent`,
        });
        return connection.close(CloseCode.unsupportedVersion, "unsupported protocol version");
      }
      const identity = await helloIdentity(session.caller, message.name);
      if (identity === null) return connection.close(CloseCode.forbidden, "no agent credential");
      session.agent = message.name;
      await this.run({ type: "hello-received", hello: message, connectionId: connection.id, identity });
      if (this.state.connected.get(message.name) === connection.id) this.requests.reconnected(message.name);
      return;
    }
    const name = session.agent;
    if (name === undefined || !this.state.agents.has(name) || this.state.connected.get(name) !== connection.id) {
      return this.send(connection, {
        type: "error",
        code: "hello_required",
        message: "send agent.hello before anything else",
        in_reply_to: message.type,
      });
    }
    // Registry commands parse only on a task room's dispatch socket (PEER_CHANNEL), answered above.
    if (message.type === "agent.heartbeat")
      await this.run({
        type: "heartbeat-received",
        agent: name,
        running: message.running,
        ...(message.worktrees_bytes === undefined ? {} : { worktreesBytes: message.worktrees_bytes }),
        ...(message.degraded === undefined ? {} : { degraded: message.degraded }),
      });
    else if (message.type === "branch.merged") this.requests.answerApply(name, message.request_id, message.outcome);
    else if (message.type === "branch.delivered")
      this.requests.answerDelivery(name, message.request_id, message.outcome);
    else if (message.type === "task.released")
      await this.run({ type: "released", agent: name, taskId: message.task_id, attempt: message.attempt });
  }

  protected override async onRead(url: URL): Promise<Response> {
    this.parties ??= this.room.context.parties;
    // Only agents the task may use count: one by name, or of one kind.
    if (url.searchParams.get("view") === "feed") {
      // The fleet feed asks when a dashboard arrives: someone watches, so pushes start again.
      this.feedWatched = true;
      return json(this.snapshot());
    }
    if (url.searchParams.get("view") === "tiers")
      return json({
        tiers: servedTiers(this.state, this.context(), url.searchParams.get("name"), url.searchParams.get("kind")),
      });
    if (url.searchParams.get("view") === "queue") return json({ queue: queueView(this.state.pending) });
    if (url.searchParams.get("view") === "metrics")
      return json(
        await registryMetrics(this.state.pending, listAgents(this.state, this.context()), this.dispatchWaits),
      );
    return json({ agents: listAgents(this.state, this.context()) });
  }

  protected async onCommand(command: RegistryCommand): Promise<Response> {
    this.parties ??= this.room.context.parties;
    if (command.type === "apply.request") return this.apply(command);
    if (command.type === "delivery.request") return json({ outcome: await this.requests.deliver(command) });
    if (command.type === "task.ended") {
      const reply = await this.run({
        type: "task-ended",
        taskId: command.task_id,
        agents: command.agents,
        ...(command.keep === undefined ? {} : { keep: command.keep }),
      });
      return json(reply !== undefined && "told" in reply ? reply : { told: [] });
    }
    if (command.type === "agent.revoke" || command.type === "agent.forget") {
      const reply = await this.run({
        type: "revoke-requested",
        name: command.name,
        forget: command.type === "agent.forget",
      });
      return reply !== undefined && "error" in reply
        ? errorResponse(reply.error.code, reply.error.message)
        : json(reply);
    }
    if (command.type === "dispatch.withdraw") {
      await this.run({ type: "dispatch-withdrawn", taskId: command.task_id });
      return json({ withdrawn: true });
    }
    if (command.type !== "dispatch.request") return errorResponse("unknown_type", "unknown registry command");
    const reply = await this.run({ type: "dispatch-requested", request: command });
    return json(reply !== undefined && "queued" in reply ? reply : { queued: true }, 202);
  }

  /** Asks the agent that ran an attempt to merge its branch into the user's checkout, and waits for its answer. */
  private async apply(request: ApplyRequest): Promise<Response> {
    const reply = await this.run({ type: "apply-requested", request, requestId: this.requests.applyRequestId() });
    if (reply === undefined || !("asked" in reply))
      return reply !== undefined && "error" in reply
        ? errorResponse(reply.error.code, reply.error.message)
        : errorResponse("internal", "apply was not asked of the agent");
    return json({ outcome: await this.requests.mergeOutcome(reply.asked) });
  }

  private sendToAgent(agent: string, message: RegistryToAgent): void {
    const connectionId = this.state.connected.get(agent);
    const connection = connectionId === undefined ? undefined : this.sessions.socket(connectionId);
    if (connection !== undefined) this.send(connection, message);
  }

  private context(): RegistryContext {
    return {
      now: Date.now(),
      heartbeatMs: this.heartbeatMs(),
      idleFlagS: this.idleFlagS(),
      startedAt: this.beatsCountedFrom,
    };
  }

  private async run(event: RegistryEvent): Promise<RegistryDecision["reply"]> {
    const decision = decideRegistry(this.state, event, this.context());
    this.state = decision.state;
    this.dispatchWaits.record(decision.effects, this.state.assigned, Date.now());
    // In order: a persist is issued before the sends after it (output gate), async effects awaited together.
    await Promise.all(decision.effects.map((effect) => this.perform(effect)));
    return decision.reply;
  }

  private perform(effect: RegistryEffect): Promise<void> | undefined {
    switch (effect.kind) {
      case "persist":
        return this.room.storage.put(persistedWrites(this.state, effect));
      case "send": {
        const connection = this.sessions.socket(effect.connectionId);
        if (connection !== undefined) this.send(connection, effect.message);
        return undefined;
      }
      case "close":
        this.sessions.socket(effect.connectionId)?.close(effect.code, effect.reason);
        this.sessions.forget(effect.connectionId);
        return undefined;
      case "assign":
        return this.assign(effect);
      case "ask-merge": {
        // Waiting before the send: the agent's answer cannot come before its wait.
        this.requests.expectMerge(effect.agent, effect.message.request_id);
        const connection = this.sessions.socket(effect.connectionId);
        if (connection !== undefined) this.send(connection, effect.message);
        return undefined;
      }
      case "forget":
        return this.room.storage.delete(agentKeys(effect.agents)).then(() => undefined);
      case "audit":
        // Fire and forget: recordAudit never rejects (it logs a failed append itself).
        void recordAudit(this.room.context.parties, this.room.env, {
          role: "agent",
          credential: effect.credential,
          action: effect.action,
          outcome: effect.outcome,
        });
        return undefined;
      case "deliver-notices":
        return this.deliverLostNotices();
      case "notify-dashboards":
        return this.notifyDashboards();
      case "arm-watchdog":
        return this.armWatchdog();
      case "announce":
        return void announce(this.parties, this.room.env, effect.events);
      case "log":
        console.warn(effect.message);
        return undefined;
    }
  }

  /** Sends a `task.assign` with its attempt token, minted for the agent it goes to (attempt-token.ts). */
  private async assign(effect: Extract<RegistryEffect, { kind: "assign" }>): Promise<void> {
    const secrets = readSecrets(this.room.env);
    if ("code" in secrets) return;
    const attempt_token = await mintAttemptToken(
      { taskId: effect.message.task_id, attempt: effect.message.attempt, agent: effect.agent },
      secrets.orchestratorToken,
      Date.now(),
    );
    const connection = this.sessions.socket(effect.connectionId);
    if (connection !== undefined) this.send(connection, { ...effect.message, attempt_token });
  }

  /** Tells task rooms of their lost attempts; what cannot be delivered now stays queued in storage. */
  private async deliverLostNotices(): Promise<void> {
    const parties = this.parties;
    const secrets = readSecrets(this.room.env);
    // One delivery at a time: runs from the alarm, heartbeats and releases would otherwise overlap.
    if (this.delivering || parties === null || "code" in secrets || this.state.lostNotices.length === 0) return;
    this.delivering = true;
    try {
      const delivered: LostNotice[] = [];
      for (const notice of [...this.state.lostNotices]) {
        const { task_id, ...lost } = notice;
        const answer = await sendToTask(parties, secrets.orchestratorToken, task_id, lost);
        // Delivered, or refused for good (the attempt already ended, the task moved on): done with it.
        if (answer.ok || answer.error.code !== "internal") delivered.push(notice);
      }
      if (delivered.length > 0) await this.run({ type: "notices-delivered", notices: delivered });
    } finally {
      this.delivering = false;
    }
  }

  /**
   * Keeps the watchdog ticking while any agent is connected or holds work, or notices or queued requests (their
   * timeout) wait.
   */
  private async armWatchdog(): Promise<void> {
    const state = this.state;
    const watched =
      state.connected.size > 0 ||
      state.lostNotices.length > 0 ||
      state.pending.length > 0 ||
      [...state.agents.values()].some((a) => a.running.length > 0 && a.lost_at === undefined);
    if (!watched || (await this.room.storage.getAlarm()) !== null) return;
    await this.room.storage.setAlarm(Date.now() + WATCHDOG_TICK_MS);
  }

  private snapshot(): RegistryToDashboard {
    return { type: "agents.snapshot", agents: listAgents(this.state, this.context()), idle_flag_s: this.idleFlagS() };
  }

  /**
   * Pushes the agents snapshot to the fleet feed, at most once a DASHBOARD_THROTTLE_MS and only while a dashboard
   * watches.
   */
  private notifyDashboards(): undefined {
    if (this.dashboardTimer !== null || !this.feedWatched) return;
    this.dashboardTimer = setTimeout(() => {
      this.dashboardTimer = null;
      const parties = this.parties;
      const secrets = readSecrets(this.room.env);
      if (parties === null || "code" in secrets) return;
      void askRoom<{ watchers?: unknown }>(
        parties,
        PartyName.fleet,
        SINGLETON_ROOM_ID,
        secrets.orchestratorToken,
        "/",
        { method: "POST", body: this.snapshot() },
      ).then((reply) => {
        if (reply.ok && reply.value.watchers === 0) this.feedWatched = false;
      });
    }, DASHBOARD_THROTTLE_MS);
  }

  private idleFlagS(): number {
    const seconds = Number(this.room.env.MESH_IDLE_FLAG_S ?? 300);
    return Number.isFinite(seconds) && seconds > 0 ? seconds : 300;
  }

  private heartbeatMs(): number {
    const seconds = Number(this.room.env.MESH_HEARTBEAT_S ?? 5);
    return (Number.isFinite(seconds) && seconds > 0 ? seconds : 5) * 1000;
  }
}

/**
 * Who says hello, from the gate's caller; an enrollment gets a fresh credential ready, used only if the actor enrolls.
 */
async function helloIdentity(caller: Caller | undefined, name: string): Promise<HelloIdentity | null> {
  if (caller === undefined || caller.role !== "agent" || caller.via === "attempt") return null;
  if (caller.via === "credential")
    return { via: "credential", agent: caller.agent, credentialHash: caller.credentialHash };
  const credential = `${AGENT_CREDENTIAL_PREFIX}${name}:${randomSecret()}`;
  return { via: "enrollment", tokenName: caller.tokenName, credential, credentialHash: await sha256Hex(credential) };
}

AgentRegistryRoom satisfies Party.Worker;
