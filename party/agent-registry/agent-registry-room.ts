import type * as Party from "partykit/server";
import {
  AgentToRegistry,
  CloseCode,
  DashboardToRegistry,
  PROTOCOL_VERSION,
  RegistryCommand,
  SUPPORTED_PROTOCOL_VERSIONS,
  parseMessage,
  type AgentHello,
  type AgentRecord,
  type AttemptLost,
  type DispatchRequest,
  type RegistryToAgent,
  type RegistryToDashboard,
} from "../../protocol/index.ts";
import { gateRequest, gateSocket, roleOf, type SocketRole } from "../auth/room-gate.ts";
import { scopeSeesMesh } from "../auth/viewer-link.ts";
import { readJsonBody } from "../http/read-body.ts";
import { errorResponse, json } from "../http/responses.ts";
import { sendToTask } from "../room-peers.ts";
import { readSecrets } from "../auth/credentials.ts";
import { agentState, heartbeatExpired, pickAgent } from "./dispatch-picker.ts";

/** What the registry stores of an agent; `state` is derived when listed. */
type StoredAgent = Omit<AgentRecord, "state">;

const AGENT_PREFIX = "agent:";
const PENDING_KEY = "pending";
/**
 * Requests handed to an agent and not yet released: if the agent comes back without them (it lost
 * the assignment with its socket), they go back to pending. A task room refuses any attempt that is
 * not still waiting, so a request handed out twice never runs twice.
 */
const ASSIGNED_KEY = "assigned";
type Assignment = { agent: string; request: DispatchRequest };
const assignmentKey = (taskId: string, attempt: number): string => `${taskId}:${attempt}`;
/** Lost attempts the task rooms have not been told of yet (an alarm cannot reach other rooms). */
const LOST_NOTICES_KEY = "lost-notices";
/** The watchdog's tick: an agent is given up at most this long after its third missed beat. */
const WATCHDOG_TICK_MS = 1000;

type LostNotice = AttemptLost & { task_id: string };
/** Dashboards get at most one agents snapshot per this many ms (heartbeats would flood them). */
const DASHBOARD_THROTTLE_MS = 1000;

/**
 * The agent registry (one room, id "main"): agents register over a persistent socket and
 * heartbeat; dispatch requests wait here, oldest first, until an agent that serves their tier has
 * a free slot. Records and pending requests live in storage and survive restarts.
 */
export default class AgentRegistryRoom implements Party.Server {
  readonly options = { hibernate: false };

  private readonly agents = new Map<string, StoredAgent>();
  /** Agent name → its live connection id. */
  private readonly connectionOf = new Map<string, string>();
  /** Connection id → role, and for agents the name it said hello with. */
  private readonly sessions = new Map<string, { role: SocketRole; agent?: string }>();
  private pending: DispatchRequest[] = [];
  private assigned: Record<string, Assignment> = {};
  private lostNotices: LostNotice[] = [];
  private delivering = false;
  private dashboardTimer: ReturnType<typeof setTimeout> | null = null;
  /** When this instance started: heartbeats are counted from here after a restart, not from before it. */
  private readonly startedAt = Date.now();
  /**
   * The other rooms, kept from the last request or connection: PartyKit hides them inside `onAlarm`,
   * and the watchdog runs there.
   */
  private parties: Party.Context["parties"] | null = null;

  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby): Promise<Party.Request | Response> {
    return gateSocket(request, lobby, (caller) => caller.role !== "viewer" || scopeSeesMesh(caller.scope));
  }

  async onStart(): Promise<void> {
    const stored = await this.room.storage.list<StoredAgent>({ prefix: AGENT_PREFIX });
    for (const agent of stored.values()) this.agents.set(agent.name, agent);
    this.pending = (await this.room.storage.get<DispatchRequest[]>(PENDING_KEY)) ?? [];
    this.assigned = (await this.room.storage.get<Record<string, Assignment>>(ASSIGNED_KEY)) ?? {};
    this.lostNotices = (await this.room.storage.get<LostNotice[]>(LOST_NOTICES_KEY)) ?? [];
    await this.armWatchdog();
  }

  /**
   * The watchdog, on a room alarm (not a timer that dies with the room): gives up agents that missed
   * three heartbeats, turns their attempts into `agent_lost`, and tells the task rooms.
   */
  async onAlarm(): Promise<void> {
    const now = Date.now();
    const heartbeatMs = this.heartbeatMs();
    for (const agent of this.agents.values()) {
      const watched = this.connectionOf.has(agent.name) || agent.running.length > 0;
      if (agent.lost_at === undefined && watched && heartbeatExpired(agent.last_heartbeat, this.startedAt, now, heartbeatMs)) {
        await this.loseAgent(agent, now, `agent ${agent.name} missed three heartbeats (${(3 * heartbeatMs) / 1000} s)`);
      }
    }
    await this.deliverLostNotices();
    await this.armWatchdog();
  }

  onConnect(connection: Party.Connection, context: Party.ConnectionContext): void {
    this.parties ??= this.room.context.parties;
    const role = roleOf(context);
    if (role === null) return connection.close(CloseCode.forbidden, "no role");
    this.sessions.set(connection.id, { role });
    if (role !== "agent") send(connection, this.snapshot());
  }

  async onClose(connection: Party.Connection): Promise<void> {
    const session = this.sessions.get(connection.id);
    this.sessions.delete(connection.id);
    if (session?.agent === undefined || this.connectionOf.get(session.agent) !== connection.id) return;
    this.connectionOf.delete(session.agent);
    this.notifyDashboards();
  }

  async onMessage(raw: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
    const session = this.sessions.get(connection.id);
    if (session === undefined) return;
    if (session.role !== "agent") {
      const parsed = parseMessage(DashboardToRegistry, raw);
      if (!parsed.ok) return send(connection, { type: "error", ...parsed.error });
      return send(connection, this.snapshot());
    }
    const parsed = parseMessage(AgentToRegistry, raw);
    if (!parsed.ok) return send(connection, { type: "error", ...parsed.error, ...(parsed.type ? { in_reply_to: parsed.type } : {}) });
    const message = parsed.message;
    if (message.type === "agent.hello") return this.onHello(message, connection, session);
    const name = session.agent;
    const agent = name === undefined ? undefined : this.agents.get(name);
    if (agent === undefined || name === undefined) {
      return send(connection, { type: "error", code: "hello_required", message: "send agent.hello before anything else", in_reply_to: message.type });
    }
    if (message.type === "agent.heartbeat") {
      agent.last_heartbeat = Date.now();
      // The agent's report refreshes what it says of attempts the registry assigned to it.
      const reports = new Map(message.running.map((ref) => [`${ref.task_id}:${ref.attempt}`, ref]));
      agent.running = agent.running.map((ref) => reports.get(`${ref.task_id}:${ref.attempt}`) ?? ref);
      send(connection, { type: "heartbeat.ack", server_time: agent.last_heartbeat });
      this.notifyDashboards();
      if (this.lostNotices.length > 0) await this.deliverLostNotices();
      return;
    }
    agent.running = agent.running.filter((ref) => !(ref.task_id === message.task_id && ref.attempt === message.attempt));
    const { [assignmentKey(message.task_id, message.attempt)]: _released, ...assigned } = this.assigned;
    this.assigned = assigned;
    // Every release is also told to the task room as a possible loss: an attempt the agent refused,
    // or gave up on without the room confirming its end, must not stay open for ever. The room
    // answers 409 for an attempt that already ended, and the notice is dropped.
    this.lostNotices = [...this.lostNotices, { type: "attempt.lost", task_id: message.task_id, attempt: message.attempt, agent: name, reason: `agent ${name} released the attempt without the task room recording its end` }];
    await this.room.storage.put({ [AGENT_PREFIX + name]: agent, [ASSIGNED_KEY]: this.assigned, [LOST_NOTICES_KEY]: this.lostNotices });
    await this.deliverLostNotices();
    await this.dispatchPending();
  }

  async onRequest(request: Party.Request): Promise<Response> {
    this.parties ??= this.room.context.parties;
    const refused = await gateRequest(request, this.room.env);
    if (refused !== null) return refused;
    if (request.method === "GET") {
      const url = new URL(request.url);
      if (url.searchParams.get("view") === "tiers") {
        // Only agents the task may use count: one by name, or of one kind.
        const name = url.searchParams.get("name");
        const kind = url.searchParams.get("kind");
        const usable = this.list().filter((agent) => agent.state === "online" && (name === null || agent.name === name) && (kind === null || agent.kind === kind));
        return json({ tiers: [...new Set(usable.flatMap((agent) => agent.tiers))] });
      }
      return json({ agents: this.list() });
    }
    if (request.method !== "POST") return errorResponse("not_found", `${request.method} is not served here`);
    const body = await readJsonBody(request as unknown as Request, RegistryCommand);
    if (!body.ok) return errorResponse(body.error.code, body.error.message);
    const command = body.body;
    if (command.type === "dispatch.withdraw") {
      this.pending = this.pending.filter((request) => request.task_id !== command.task_id);
      await this.room.storage.put(PENDING_KEY, this.pending);
      return json({ withdrawn: true });
    }
    // A task room may ask again (after its restart): a request already queued or handed out is not added twice.
    const duplicate = this.pending.some((p) => p.task_id === command.task_id && p.attempt === command.attempt) || this.assigned[assignmentKey(command.task_id, command.attempt)] !== undefined;
    if (!duplicate) this.pending.push(command);
    await this.room.storage.put(PENDING_KEY, this.pending);
    await this.dispatchPending();
    const assigned = this.list().find((agent) => agent.running.some((ref) => ref.task_id === command.task_id && ref.attempt === command.attempt));
    return json({ queued: assigned === undefined, ...(assigned ? { agent: assigned.name } : {}) }, 202);
  }

  private async onHello(hello: AgentHello, connection: Party.Connection, session: { role: SocketRole; agent?: string }): Promise<void> {
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(hello.protocol_version)) {
      send(connection, { type: "error", code: "unsupported_version", message: `protocol ${hello.protocol_version} is not supported; this mesh speaks ${PROTOCOL_VERSION}: upgrade the agent` });
      return connection.close(CloseCode.unsupportedVersion, "unsupported protocol version");
    }
    const previous = this.connectionOf.get(hello.name);
    if (previous !== undefined && previous !== connection.id) {
      this.room.getConnection(previous)?.close(CloseCode.replaced, `agent ${hello.name} connected again elsewhere`);
      this.sessions.delete(previous);
    }
    const now = Date.now();
    const known = this.agents.get(hello.name);
    const agent: StoredAgent = {
      // A new hello clears a `lost_at`: the agent is back.
      name: hello.name,
      kind: hello.kind,
      tiers: hello.tiers,
      capacity: hello.capacity,
      version: hello.version,
      registered_at: known?.registered_at ?? now,
      last_heartbeat: now,
      // The agent's own report of what it runs is the truth after a (re)connect; a task room
      // refuses any attempt that is no longer the agent's, and the agent then stops it.
      running: hello.running,
    };
    // Assignments the agent does not report never reached it (or it lost them): hand them out again.
    const reported = new Set(hello.running.map((ref) => assignmentKey(ref.task_id, ref.attempt)));
    const dropped = Object.entries(this.assigned).filter(([key, a]) => a.agent === hello.name && !reported.has(key));
    if (dropped.length > 0) {
      this.pending = [...dropped.map(([, a]) => a.request), ...this.pending];
      this.assigned = Object.fromEntries(Object.entries(this.assigned).filter(([key]) => !dropped.some(([d]) => d === key)));
    }
    this.agents.set(hello.name, agent);
    this.connectionOf.set(hello.name, connection.id);
    session.agent = hello.name;
    await this.room.storage.put({ [AGENT_PREFIX + hello.name]: agent, [PENDING_KEY]: this.pending, [ASSIGNED_KEY]: this.assigned });
    send(connection, { type: "agent.welcome", heartbeat_s: this.heartbeatMs() / 1000, idle_flag_s: this.idleFlagS() });
    this.notifyDashboards();
    await this.armWatchdog();
    await this.dispatchPending();
  }

  /** Gives an agent up: its socket is closed, its attempts are released and reported lost to their task rooms. */
  private async loseAgent(agent: StoredAgent, now: number, reason: string): Promise<void> {
    const notices: LostNotice[] = agent.running.map((ref) => ({ type: "attempt.lost", task_id: ref.task_id, attempt: ref.attempt, agent: agent.name, reason }));
    agent.running = [];
    agent.lost_at = now;
    this.assigned = Object.fromEntries(Object.entries(this.assigned).filter(([, a]) => a.agent !== agent.name));
    const connectionId = this.connectionOf.get(agent.name);
    this.connectionOf.delete(agent.name);
    if (connectionId !== undefined) {
      this.sessions.delete(connectionId);
      this.room.getConnection(connectionId)?.close(CloseCode.heartbeatTimeout, "heartbeat timeout");
    }
    this.lostNotices = [...this.lostNotices, ...notices];
    await this.room.storage.put({ [AGENT_PREFIX + agent.name]: agent, [LOST_NOTICES_KEY]: this.lostNotices, [ASSIGNED_KEY]: this.assigned });
    console.warn(`registry: ${reason}; ${notices.length} attempt(s) lost`);
    this.notifyDashboards();
  }

  /** Tells task rooms of their lost attempts; what cannot be delivered now stays queued in storage. */
  private async deliverLostNotices(): Promise<void> {
    const parties = this.parties;
    const secrets = readSecrets(this.room.env);
    // One delivery at a time: runs from the alarm, heartbeats and releases would otherwise overlap.
    if (this.delivering || parties === null || "code" in secrets || this.lostNotices.length === 0) return;
    this.delivering = true;
    try {
      for (const { task_id, ...notice } of [...this.lostNotices]) {
        const response = await sendToTask(parties, secrets.orchestratorToken, task_id, notice).catch(() => null);
        // Delivered, or 4xx (the attempt already ended, the task moved on): done with it. Removed by
        // identity, so notices added meanwhile stay queued.
        if (response !== null && response.status < 500) {
          this.lostNotices = this.lostNotices.filter((n) => !(n.task_id === task_id && n.attempt === notice.attempt && n.reason === notice.reason));
        }
      }
      await this.room.storage.put(LOST_NOTICES_KEY, this.lostNotices);
    } finally {
      this.delivering = false;
    }
  }

  /** Keeps the watchdog ticking while any agent is connected or holds work, or notices wait. */
  private async armWatchdog(): Promise<void> {
    const watched = this.connectionOf.size > 0 || this.lostNotices.length > 0 || [...this.agents.values()].some((a) => a.running.length > 0 && a.lost_at === undefined);
    if (!watched || (await this.room.storage.getAlarm()) !== null) return;
    await this.room.storage.setAlarm(Date.now() + WATCHDOG_TICK_MS);
  }

  /** Hands pending requests, oldest first, to agents that can take them now. */
  private async dispatchPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const remaining: DispatchRequest[] = [];
    const changed = new Set<string>();
    for (const request of this.pending) {
      const picked = pickAgent(this.list(), request);
      const connectionId = picked === null ? undefined : this.connectionOf.get(picked.name);
      const connection = connectionId === undefined ? undefined : this.room.getConnection(connectionId);
      const agent = picked === null ? undefined : this.agents.get(picked.name);
      if (connection === undefined || agent === undefined) {
        remaining.push(request);
        continue;
      }
      agent.running = [...agent.running, { task_id: request.task_id, attempt: request.attempt }];
      this.assigned = { ...this.assigned, [assignmentKey(request.task_id, request.attempt)]: { agent: agent.name, request } };
      changed.add(agent.name);
      send(connection, {
        type: "task.assign",
        task_id: request.task_id,
        attempt: request.attempt,
        tier: request.tier,
        prompt: request.prompt,
        ...(request.cwd === undefined ? {} : { cwd: request.cwd }),
        ...(request.acceptance === undefined ? {} : { acceptance: request.acceptance }),
      });
    }
    if (changed.size === 0) return;
    this.pending = remaining;
    const writes: Record<string, unknown> = { [PENDING_KEY]: remaining, [ASSIGNED_KEY]: this.assigned };
    for (const name of changed) writes[AGENT_PREFIX + name] = this.agents.get(name);
    await this.room.storage.put(writes);
    this.notifyDashboards();
  }

  private list(): AgentRecord[] {
    const now = Date.now();
    return [...this.agents.values()].map((agent) => ({
      ...agent,
      state: agentState(this.connectionOf.has(agent.name), agent.last_heartbeat, now, this.heartbeatMs(), agent.lost_at),
    }));
  }

  private snapshot(): RegistryToDashboard {
    return { type: "agents.snapshot", agents: this.list(), idle_flag_s: this.idleFlagS() };
  }

  private notifyDashboards(): void {
    if (this.dashboardTimer !== null) return;
    this.dashboardTimer = setTimeout(() => {
      this.dashboardTimer = null;
      const frame = JSON.stringify(this.snapshot());
      for (const [id, session] of this.sessions) if (session.role !== "agent") this.room.getConnection(id)?.send(frame);
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

function send(connection: Party.Connection, message: RegistryToAgent | RegistryToDashboard): void {
  connection.send(JSON.stringify(message));
}

AgentRegistryRoom satisfies Party.Worker;
