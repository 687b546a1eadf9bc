import type * as Party from "partykit/server";
import {
  AgentToTask,
  type AttemptExit,
  type AttemptHello,
  CloseCode,
  MAX_LOG_READ,
  PROTOCOL_VERSION,
  type Result,
  SUPPORTED_PROTOCOL_VERSIONS,
  TaskCommand,
  TaskRecord,
  type TaskToAgent,
  type TaskToViewer,
  ViewerToTask,
} from "../../protocol/index.ts";
import { StoredAttemptLines } from "../../protocol/task-records.ts";
import { readSecrets } from "../auth/credentials.ts";
import { callerOf, roleOf, type SocketRole } from "../auth/room-gate.ts";
import { scopeAllowsTask } from "../auth/viewer-link.ts";
import { errorResponse, json } from "../http/responses.ts";
import { FLOOD_LIMITS } from "../limits/flood-guard.ts";
import { LiveSockets } from "../live-sockets.ts";
import { type Channel, MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { servedTiers } from "../room-peers.ts";
import { readStored } from "../stored-records.ts";
import { ATTEMPT_LINES_KEY, type OutputStores, takeDiffPiece, takeLogBatch } from "./agent-output.ts";
import { AttemptHolders } from "./attempt-holders.ts";
import { ChangeWaiters } from "./change-waiters.ts";
import { eventOfCommand } from "./command-events.ts";
import { diffResponse } from "./diff-response.ts";
import { DiffStore } from "./diff-store.ts";
import { EffectPerformer, TASK_KEY } from "./effect-performer.ts";
import { escalationConfigFrom } from "./escalation.ts";
import { LogStore } from "./log-store.ts";
import { reply } from "./room-replies.ts";
import { isSessionArchiveRequest, SessionArchiveStore, serveSessionArchive } from "./session-archive-route.ts";
import { decide, emptyTaskActor, exitMayClimb, type TaskActorState, type TaskEvent } from "./task-actor.ts";
import { ViewerFeed } from "./viewer-feed.ts";

/**
 * One room per task (room id = the task's ULID), the one owner of the task's lifecycle: the task
 * actor (`task-actor.ts`) decides, this room routes hooks to it and carries out its effects
 * (`effect-performer.ts`). It also takes the output of the agents that run the task's attempts
 * (`agent-output.ts`) and feeds viewers live.
 *
 * Durable Objects hold a room's outgoing messages (responses, fetches to other rooms, socket sends)
 * until the storage writes issued before them are confirmed: the output gate (docs/output-gate.md; Cloudflare's
 * glossary, "output gate"). So effects issue a write and go on without awaiting it: whatever they
 * send next leaves only once the write is durable, and a restart never sees a message whose cause
 * was not stored.
 */
export default class TaskRoom extends MeshRoom<TaskCommand, AgentToTask | ViewerToTask, TaskToAgent | TaskToViewer> {
  // Agents only with the attempt token of this task's task.assign (docs/agent-identity.md): never the enrollment token
  // or a bare credential.
  static override readonly sockets: SocketPolicy = {
    open: true,
    admits: (caller, lobby) =>
      caller.role === "viewer"
        ? scopeAllowsTask(caller.scope, lobby.id)
        : caller.role === "orchestrator" || (caller.via === "attempt" && caller.taskId === lobby.id),
  };
  protected readonly commands = TaskCommand;

  private actor: TaskActorState = emptyTaskActor();
  private log: LogStore | null = null;
  private feed: ViewerFeed | null = null;
  private diffs: DiffStore | null = null;
  private holders = new AttemptHolders({});
  /** Agent sockets: the attempt (and agent) their attempt token names; nothing else may be said on them. */
  private readonly attemptScopes = new Map<string, { agent: string; attempt: number }>();
  private readonly waiters = new ChangeWaiters();
  /** Open sockets and their roles; sends go through these socket objects, never `getConnection` (live-sockets.ts). */
  private readonly roles = new LiveSockets<SocketRole>();
  /** Built at start, over the stores read then: carries out the actor's effects, takes the agents' output. */
  private effects: EffectPerformer | null = null;
  private output: OutputStores | null = null;
  /** Whether this instance has re-asked for the attempts it found waiting at start. */
  private resumed = false;

  async onStart(): Promise<void> {
    // Read at once: a new task's room starts on the create's path.
    const where = `task ${this.room.id}`;
    const [task, lineCounts, log] = await Promise.all([
      readStored(this.room.storage, where, TASK_KEY, TaskRecord),
      readStored(this.room.storage, where, ATTEMPT_LINES_KEY, StoredAttemptLines),
      LogStore.load(this.room.storage, where),
    ]);
    // A corrupt record (logged as it was read; docs/rooms.md) reads as none: the room answers
    // not_found rather than fail to start; counts start afresh, so a resent batch is stored again.
    this.actor = emptyTaskActor(task.ok ? (task.value ?? null) : null);
    this.holders = AttemptHolders.fromStored(lineCounts.ok ? lineCounts.value : undefined);
    this.log = log;
    this.feed = new ViewerFeed(log);
    this.diffs = new DiffStore(this.room.storage, where);
    const stores = {
      roomId: this.room.id,
      holders: this.holders,
      log,
      feed: this.feed,
      waiters: this.waiters,
      diffs: this.diffs,
    };
    this.output = stores;
    this.effects = new EffectPerformer({
      ...stores,
      room: this.room,
      roles: this.roles,
      task: () => this.actor.task,
      token: () => this.token(),
      run: (event) => this.run(event),
      send: (connection, message) => this.send(connection, message),
    });
  }

  onConnect(connection: Party.Connection, context: Party.ConnectionContext): void {
    const role = roleOf(context);
    const task = this.actor.task;
    if (role === null || task === null) {
      this.send(connection, { type: "error", code: "not_found", message: `no task ${this.room.id}; check the id` });
      connection.close(CloseCode.notFound, "no such task");
      return;
    }
    if (role === "agent") {
      const caller = callerOf(context);
      if (caller?.role !== "agent" || caller.via !== "attempt" || caller.taskId !== this.room.id)
        return connection.close(CloseCode.forbidden, "an agent opens a task room only with its attempt token");
      this.attemptScopes.set(connection.id, { agent: caller.agent, attempt: caller.attempt });
    }
    this.roles.add(connection, role)?.close(CloseCode.replaced, "a newer socket took this connection id");
    if (role !== "agent") this.send(connection, { type: "task.snapshot", task });
  }

  onClose(connection: Party.Connection): void {
    // A stale socket's close (an older socket under the same id) must not drop the live one's attempt.
    if (this.roles.remove(connection) === undefined) return;
    this.attemptScopes.delete(connection.id);
    this.feed?.drop(connection.id);
    this.holders.dropConnection(connection.id);
  }

  /**
   * Agents stream batches of lines, viewers only subscribe (docs/rooms.md "Flood limits"); a socket no longer tracked
   * is ignored.
   */
  protected override channelOf(connection: Party.Connection): Channel<AgentToTask | ViewerToTask> | null {
    const role = this.roles.infoOf(connection);
    if (role === undefined) return null;
    return role === "agent"
      ? { schema: AgentToTask, perSecond: FLOOD_LIMITS.agentOnTask }
      : { schema: ViewerToTask, perSecond: FLOOD_LIMITS.viewer };
  }

  protected override onSocketMessage(
    message: AgentToTask | ViewerToTask,
    connection: Party.Connection,
  ): Promise<void> | void {
    if (message.type === "logs.subscribe") return this.feed?.subscribe(connection, message.since_seq);
    if (message.type === "attempt.hello") return this.onAttemptHello(message, connection);
    if (message.type === "log.batch" || message.type === "attempt.diff") {
      if (this.output === null) return;
      const answer =
        message.type === "log.batch"
          ? takeLogBatch(this.output, message, connection.id)
          : takeDiffPiece(this.output, message, connection.id);
      return answer === undefined ? undefined : this.send(connection, answer);
    }
    if (message.type === "attempt.session_archive")
      return this.holders.holds(connection.id, message.attempt)
        ? void new SessionArchiveStore(this.room.storage).put(message)
        : this.send(connection, {
            type: "error",
            code: "not_assigned",
            message: `attempt ${message.attempt} is not held by this connection`,
            in_reply_to: message.type,
          });
    if (message.type === "attempt.session")
      return void (
        this.holders.holds(connection.id, message.attempt) &&
        this.run({ type: "session-reported", attempt: message.attempt, sessionId: message.session_id })
      );
    return this.onAttemptExit(message, connection);
  }

  /** An agent fetching an earlier attempt's session shows its own attempt token, not the orchestrator's. */
  protected override openRoute(request: Request): Promise<Response> | null {
    return isSessionArchiveRequest(request)
      ? serveSessionArchive(request, this.room, async (n) => this.diffs?.text(n))
      : null;
  }

  protected async onCommand(command: TaskCommand): Promise<Response> {
    if (command.type === "task.create") {
      this.resumed = true;
      return reply(await this.run({ type: "create-requested", command }), 201);
    }
    await this.resume();
    const held = (): number[] =>
      (this.actor.task?.attempts ?? []).filter((a) => this.effects?.holderSocket(a.n) !== undefined).map((a) => a.n);
    return reply(await this.run(eventOfCommand(command, held)));
  }

  /** The task, a page of its log, or (long poll, for MCP waiters) what changed since a revision. */
  protected override async onRead(url: URL): Promise<Response> {
    await this.resume();
    const task = this.actor.task;
    if (task === null || this.log === null) return errorResponse("not_found", `no task ${this.room.id}`);
    const view = url.searchParams.get("view");
    if (view === "diff") return diffResponse(task, url.searchParams.get("attempt"), this.diffs);
    if (view !== "logs" && view !== "changes") return json(task);
    const sinceSeq = Math.max(0, Number(url.searchParams.get("since_seq") ?? "0") || 0);
    const limit = Math.min(
      MAX_LOG_READ,
      Math.max(1, Number(url.searchParams.get("limit") ?? MAX_LOG_READ) || MAX_LOG_READ),
    );
    if (view === "changes")
      await this.waiters.changeAfter(
        Number(url.searchParams.get("revision") ?? "-1"),
        this.log.nextSeq > sinceSeq,
        Number(url.searchParams.get("timeout_ms") ?? "0"),
      );
    const lines = await this.log.read(sinceSeq, limit);
    return json(view === "logs" ? { lines } : { task: this.actor.task, lines, revision: this.waiters.revision });
  }

  /**
   * After a restart, asks again for every attempt still waiting for an agent (reserving and dispatching are idempotent
   * per attempt).
   */
  private async resume(): Promise<void> {
    if (this.resumed || this.actor.task === null) return;
    this.resumed = true;
    await this.run({ type: "room-resumed" });
  }

  private onAttemptHello(hello: AttemptHello, connection: Party.Connection): Promise<void> | void {
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(hello.protocol_version)) {
      this.send(connection, {
        type: "error",
        code: "unsupported_version",
        message: `protocol ${hello.protocol_version} is not supported; this mesh speaks ${PROTOCOL_VERSION}: upgrade the agent`,
      });
      return connection.close(CloseCode.unsupportedVersion, "unsupported protocol version");
    }
    // The socket's attempt token names the one attempt, and the agent, it may speak for (docs/agent-identity.md).
    const scope = this.attemptScopes.get(connection.id);
    if (scope === undefined || scope.attempt !== hello.attempt || scope.agent !== hello.agent) {
      this.send(connection, {
        type: "error",
        code: "not_assigned",
        message: `this socket's attempt token is for attempt ${scope?.attempt ?? "?"} of agent ${scope?.agent ?? "?"}; attempt ${hello.attempt} of agent ${hello.agent} is not its own`,
        in_reply_to: hello.type,
      });
      return connection.close(CloseCode.notAssigned, "not this socket's attempt");
    }
    return this.run({
      type: "hello-received",
      hello,
      connectionId: connection.id,
      linesStored: this.holders.linesOf(hello.attempt),
    }).then(() => undefined);
  }

  private async onAttemptExit(reported: AttemptExit, connection: Party.Connection): Promise<void> {
    // A diff with pieces missing is kept and flagged: the branch still holds all of it.
    const complete =
      reported.diff_chunks === undefined || this.diffs?.complete(reported.attempt, reported.diff_chunks) === true;
    const exit: AttemptExit = complete ? reported : { ...reported, diff_truncated: true };
    const task = this.actor.task;
    if (task === null || !this.holders.holds(connection.id, exit.attempt)) {
      return this.send(connection, {
        type: "error",
        code: "not_assigned",
        message: `attempt ${exit.attempt} is not held by this connection`,
        in_reply_to: exit.type,
      });
    }
    const agent = this.holders.holderOf(exit.attempt)?.agent ?? "";
    // Only an exit that may move the ladder waits for the registry's view of served tiers.
    const served = exitMayClimb(task, exit)
      ? await servedTiers(this.room.context.parties, this.token(), task.agent_selector)
      : [];
    if (!this.holders.holds(connection.id, exit.attempt)) return;
    await this.run({
      type: "attempt-exited",
      exit,
      agent,
      connectionId: connection.id,
      missingLines: exit.line_count - this.holders.linesOf(exit.attempt),
      served,
    });
  }

  /** Runs one event through the actor and carries out its effects; the reply of a request, if it was one. */
  private async run(event: TaskEvent): Promise<Result<TaskRecord> | undefined> {
    const decision = decide(this.actor, event, {
      now: Date.now(),
      taskId: this.room.id,
      config: escalationConfigFrom(this.room.env),
    });
    this.actor = decision.state;
    // Started in order and awaited together: writes are issued before the sends that follow them.
    const followUps = await Promise.all(decision.effects.map((effect) => this.effects?.perform(effect)));
    return decision.reply ?? followUps.find((r) => r !== undefined);
  }

  /**
   * The token this room calls other rooms with. Every request and socket reaching this room passed a
   * gate that refuses a server without usable secrets (503), and the launcher refuses to start without
   * them (docs/settings.md), so a missing secret here is a fault, never an empty token.
   */
  private token(): string {
    const secrets = readSecrets(this.room.env);
    if ("code" in secrets)
      throw new Error(`task room ${this.room.id} has no usable orchestrator token: ${secrets.message}`);
    return secrets.orchestratorToken;
  }
}

TaskRoom satisfies Party.Worker;
