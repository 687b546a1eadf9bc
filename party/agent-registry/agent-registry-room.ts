import type * as Party from "partykit/server";
import {
  AgentToRegistry,
  CloseCode,
  PROTOCOL_VERSION,
  RegistryCommand,
  type RegistryToAgent,
  type RegistryToDashboard,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "../../protocol/index.ts";
import { type Caller, readSecrets } from "../auth/credentials.ts";
import { callerOf, roleOf, type SocketRole } from "../auth/room-gate.ts";
import { json } from "../http/responses.ts";
import { FLOOD_LIMITS } from "../limits/flood-guard.ts";
import { LiveSockets } from "../live-sockets.ts";
import { type Channel, MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { DispatchHistogram, registryMetrics } from "../metrics/registry-metrics.ts";
import { PEER_QUERY, sendToTask } from "../room-peers.ts";
import { AgentRequests } from "./agent-requests.ts";
import { queueView } from "./dispatch-queue.ts";
import { helloIdentity } from "./hello-identity.ts";
import {
  decideRegistry,
  emptyRegistry,
  listAgents,
  type RegistryContext,
  type RegistryDecision,
  type RegistryEvent,
  type RegistryState,
  servedTiers,
} from "./registry-actor.ts";
import { answerCommand } from "./registry-commands.ts";
import { RegistryEffects, WATCHDOG_TICK_MS } from "./registry-effects.ts";
import { loadRegistry } from "./registry-storage.ts";

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
/**
 * The agent registry (one room, id "main"): agents register over a persistent socket and
 * heartbeat; dispatch requests wait here, oldest first, until an agent that serves their tier has
 * a free slot. The registry actor (`registry-actor.ts`) decides; this room routes, its effects are
 * carried out by `registry-effects.ts` and its HTTP commands answered by `registry-commands.ts`.
 * Records and pending requests live in storage and survive restarts.
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
  private readonly dispatchWaits = new DispatchHistogram({
    get: (key) => this.room.storage.get(key),
    put: (key, value) => this.room.storage.put(key, value),
  }); // GET /metrics (docs/metrics.md)
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
  private readonly effects = new RegistryEffects({
    room: this.room,
    sockets: this.sessions,
    requests: this.requests,
    state: () => this.state,
    parties: () => this.parties,
    send: (connection, message) => this.send(connection, message),
    run: (event) => this.run(event),
    snapshot: () => this.snapshot(),
  });

  async onStart(): Promise<void> {
    // What does not parse is dropped and logged (registry-storage.ts): a corrupt record never stops the registry.
    this.state = (await loadRegistry(this.room.storage)).state;
    await this.effects.armWatchdog();
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
      this.effects.watched();
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
    return answerCommand(command, { run: (event) => this.run(event), requests: this.requests });
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
    await Promise.all(decision.effects.map((effect) => this.effects.perform(effect)));
    return decision.reply;
  }

  private snapshot(): RegistryToDashboard {
    return { type: "agents.snapshot", agents: listAgents(this.state, this.context()), idle_flag_s: this.idleFlagS() };
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

AgentRegistryRoom satisfies Party.Worker;
