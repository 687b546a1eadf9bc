import type * as Party from "partykit/server";
import {
  AgentToTask,
  type AttemptDiff,
  type AttemptExit,
  type AttemptHello,
  CloseCode,
  type LogBatch,
  type LogLine,
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
import { announce } from "../notification-outbox/announce.ts";
import { servedTiers } from "../room-peers.ts";
import { readStored } from "../stored-records.ts";
import { AttemptHolders } from "./attempt-holders.ts";
import { ChangeWaiters } from "./change-waiters.ts";
import { diffResponse } from "./diff-response.ts";
import { DiffStore } from "./diff-store.ts";
import { escalationConfigFrom } from "./escalation.ts";
import { LogStore } from "./log-store.ts";
import { queueTimeoutFrom } from "./queue-settings.ts";
import { RegistrySocket } from "./registry-socket.ts";
import { reply, systemLine } from "./room-replies.ts";
import { isSessionArchiveRequest, SessionArchiveStore, serveSessionArchive } from "./session-archive-route.ts";
import {
  decide,
  emptyTaskActor,
  exitMayClimb,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "./task-actor.ts";
import { pullRequestText } from "./task-delivery.ts";
import { TaskPeers } from "./task-peers.ts";
import { exportSpans } from "./task-trace.ts";
import { ViewerFeed } from "./viewer-feed.ts";

const TASK_KEY = "task";
/** Lines of each attempt already stored, written with each batch: how duplicates are recognised. */
const ATTEMPT_LINES_KEY = "attempt-lines";

/**
 * One room per task (room id = the task's ULID), the one owner of the task's lifecycle: the task
 * actor (`task-actor.ts`) decides, this room routes hooks to it and carries out its effects. It also
 * takes the output of the agents that run the task's attempts and feeds viewers live.
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
  /** A socket to the registry opened while an admission or reservation is asked, for the dispatch after it. */
  private registrySocket: RegistrySocket | null = null;
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
    if (message.type === "log.batch") return this.onLogBatch(message, connection);
    if (message.type === "attempt.diff") return this.onAttemptDiff(message, connection);
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
      ? serveSessionArchive(request, this.room, async (n) => this.diffText(n))
      : null;
  }

  protected async onCommand(command: TaskCommand): Promise<Response> {
    if (command.type === "task.create") {
      this.resumed = true;
      return reply(await this.run({ type: "create-requested", command }), 201);
    }
    await this.resume();
    if (command.type === "attempt.lost")
      return reply(
        await this.run({ type: "agent-lost", attempt: command.attempt, agent: command.agent, reason: command.reason }),
      );
    if (command.type === "attempt.unserved")
      return reply(
        await this.run({
          type: "attempt-unserved",
          attempt: command.attempt,
          message: command.message,
          ...(command.failure_class === undefined ? {} : { failureClass: command.failure_class }),
        }),
      );
    if (command.type === "budget.halted")
      return reply(await this.run({ type: "budget-halted", attempt: command.attempt, message: command.message }));
    if (command.type === "task.watch")
      return reply(await this.run({ type: "watch-requested", dependent: command.dependent }));
    if (command.type === "task.dependency") return reply(await this.run({ type: "dependency-heard", news: command }));
    if (command.type === "task.delivered")
      return reply(
        await this.run({
          type: "delivery-answered",
          attempt: command.attempt,
          mode: command.mode,
          outcome: { ok: true, value: command.outcome },
        }),
      );
    if (command.type === "task.apply")
      return reply(
        await this.run({
          type: "apply-requested",
          ...(command.attempt === undefined ? {} : { attempt: command.attempt }),
        }),
      );
    if (command.type === "task.resolve")
      return reply(
        await this.run({
          type: "person-decided",
          command: {
            decision: command.decision,
            ...(command.guidance === undefined ? {} : { guidance: command.guidance }),
            ...(command.executor === undefined ? {} : { executor: command.executor }),
          },
        }),
      );
    const held = (this.actor.task?.attempts ?? [])
      .filter((a) => this.holderConnection(a.n) !== undefined)
      .map((a) => a.n);
    return reply(
      await this.run({
        type: "cancel-requested",
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        held,
      }),
    );
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

  /**
   * The hot path, outside the actor (output is not lifecycle): numbers the new lines, issues their
   * write, publishes them, and acknowledges at once; the output gate holds the ack until the write
   * is durable, so an acknowledged line is never lost.
   */
  private onLogBatch(batch: LogBatch, connection: Party.Connection): void {
    if (!this.holders.holds(connection.id, batch.attempt) || this.log === null) {
      return this.send(connection, {
        type: "error",
        code: "not_assigned",
        message: `attempt ${batch.attempt} is not held by this connection; send attempt.hello first`,
        in_reply_to: batch.type,
      });
    }
    const expected = this.holders.linesOf(batch.attempt);
    const fresh = batch.lines.slice(Math.max(0, expected - batch.first_line));
    const missing = Math.max(0, batch.first_line - expected);
    if (fresh.length > 0) {
      const lines: Omit<LogLine, "seq">[] = [];
      if (missing > 0)
        lines.push(
          systemLine(
            batch.attempt,
            `[mesh] ${missing} output lines of attempt ${batch.attempt} were lost before they reached the mesh`,
          ),
        );
      for (const line of fresh) lines.push({ ...line, attempt: batch.attempt });
      const counts = this.holders.setLines(batch.attempt, batch.first_line + batch.lines.length);
      const appended = this.log.append(lines, { [ATTEMPT_LINES_KEY]: counts });
      this.feed?.publish(appended.lines);
      this.waiters.linesArrived();
      appended.written.catch((error: unknown) =>
        console.error(`task ${this.room.id}: storing output failed: ${String(error)}`),
      );
    }
    this.send(connection, { type: "log.ack", attempt: batch.attempt, next_line: this.holders.linesOf(batch.attempt) });
  }

  /** A piece of the attempt's diff: stored at once; the exit that follows says how many pieces there were. */
  private onAttemptDiff(piece: AttemptDiff, connection: Party.Connection): void {
    if (!this.holders.holds(connection.id, piece.attempt) || this.diffs === null) {
      return this.send(connection, {
        type: "error",
        code: "not_assigned",
        message: `attempt ${piece.attempt} is not held by this connection; send attempt.hello first`,
        in_reply_to: piece.type,
      });
    }
    this.diffs
      .put(piece.attempt, piece.index, piece.text)
      .catch((error: unknown) => console.error(`task ${this.room.id}: storing a diff failed: ${String(error)}`));
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
    const followUps = await Promise.all(decision.effects.map((effect) => this.perform(effect)));
    return decision.reply ?? followUps.find((r) => r !== undefined);
  }

  private perform(effect: TaskEffect): Promise<Result<TaskRecord> | undefined> | undefined {
    const peers = new TaskPeers(this.room.context.parties, this.token(), this.room.id, this.actor.task?.kind);
    switch (effect.kind) {
      case "ask-admission":
        this.registrySocket ??= new RegistrySocket(this.room.context.parties, this.token());
        return peers.admit(effect.reserve?.tier, effect.summary, effect.selector).then(async (admission) => {
          const reply = await this.run({ type: "admission-answered", ...admission });
          if (reply?.ok !== true) this.dropRegistrySocket();
          return reply;
        });
      case "reserve-attempt":
        this.registrySocket ??= new RegistrySocket(this.room.context.parties, this.token());
        return peers.reserve(effect.attempt, effect.tier).then((result) => {
          if (!result.ok) this.dropRegistrySocket();
          return this.run({ type: "reservation-answered", attempt: effect.attempt, result });
        });
      case "ask-start":
        return peers.start(effect.hello.attempt, effect.tier, effect.hello.executor).then((grant) =>
          this.run({
            type: "start-answered",
            hello: effect.hello,
            connectionId: effect.connectionId,
            grant,
            linesStored: this.holders.linesOf(effect.hello.attempt),
          }),
        );
      case "store-task":
        this.store(effect.task, effect.note, effect.attempt);
        return undefined;
      case "dispatch-attempt":
        return this.dispatch(peers, effect.attempt).then(() => undefined);
      case "index-task":
        return peers.index(effect.summary).then(() => undefined);
      case "release-reservation":
        return peers.release(effect.attempt).then(() => undefined);
      case "unlist-task":
        return peers.unlist().then(() => undefined);
      case "withdraw-requests":
        return peers.withdraw().then(() => undefined);
      case "settle-attempt":
        return peers.settle(effect.attempt).then(() => undefined);
      case "bind-attempt": {
        const replaced = this.holders.hold(effect.attempt, { connectionId: effect.connectionId, agent: effect.agent });
        if (replaced !== null) this.roles.socket(replaced)?.close(CloseCode.replaced, "the agent reconnected");
        return undefined;
      }
      case "unbind-attempt": {
        const connection = effect.close === undefined ? undefined : this.holderConnection(effect.attempt);
        this.holders.release(effect.attempt);
        connection?.close(CloseCode.notAssigned, effect.close);
        return undefined;
      }
      case "send-to-agent": {
        const connection = this.roles.socket(effect.connectionId);
        if (connection === undefined) return undefined;
        this.send(connection, effect.message);
        if (effect.close === "not_assigned") connection.close(CloseCode.notAssigned, "attempt not assigned");
        return undefined;
      }
      case "log-note":
        this.note(effect.text, effect.attempt);
        return undefined;
      case "ask-apply":
        return peers
          .apply(effect.request)
          .then((outcome) => this.run({ type: "apply-answered", attempt: effect.request.attempt, outcome }));
      case "ask-delivery": {
        // Not awaited: a push and a pull request may take minutes, and nothing else waits for them.
        const link =
          typeof this.room.env.MESH_PUBLIC_URL === "string" && this.room.env.MESH_PUBLIC_URL !== ""
            ? `${this.room.env.MESH_PUBLIC_URL.replace(/\/+$/, "")}/#task=${this.room.id}`
            : undefined;
        const request =
          effect.request.mode === "pr" && this.actor.task !== null
            ? { ...effect.request, pull_request: pullRequestText(this.actor.task, link) }
            : effect.request;
        void peers
          .deliver(request)
          .then((outcome) =>
            this.run({ type: "delivery-answered", attempt: request.attempt, mode: request.mode, outcome }),
          );
        return undefined;
      }
      case "free-worktrees":
        return peers.ended(effect.agents, effect.keep).then(() => undefined);
      case "watch-tasks":
        return peers.watch(effect.ids).then(async (heard) => {
          for (const problem of heard.problems) console.error(`task ${this.room.id}: ${problem}`);
          for (const news of heard.news) await this.run({ type: "dependency-heard", news });
          return undefined;
        });
      case "notify-dependents":
        return peers.notify(effect.dependents, effect.news).then(() => undefined);
      case "announce-events":
        return void announce(this.room.context.parties, this.room.env, effect.events);
      case "export-spans":
        return void exportSpans(this.room.context.parties, this.room.env, () => this.token(), effect.task);
      case "read-served-tiers":
        return servedTiers(
          this.room.context.parties,
          this.token(),
          this.actor.task?.agent_selector ?? { by: "any" },
        ).then((served) => this.run({ type: "served-tiers-read", served }));
      case "stop-attempt": {
        const connection = this.holderConnection(effect.attempt);
        if (connection !== undefined)
          this.send(connection, { type: "attempt.cancel", attempt: effect.attempt, reason: effect.reason });
        return undefined;
      }
    }
  }

  /** A `[mesh]` line in the log, with no change of the task. */
  private note(text: string, attempt: number): void {
    const appended = this.log?.append([systemLine(attempt, text)]);
    if (appended) this.feed?.publish(appended.lines);
    appended?.written.catch((error: unknown) =>
      console.error(`task ${this.room.id}: storing a note failed: ${String(error)}`),
    );
  }

  /** Issues the write of a new task state (with its note in the log), shows it to viewers, wakes waiters. */
  private store(task: TaskRecord, note: string, attempt: number): void {
    const appended = this.log?.append([systemLine(attempt, `[mesh] ${note}`)], { [TASK_KEY]: task });
    if (appended) this.feed?.publish(appended.lines);
    appended?.written.catch((error: unknown) =>
      console.error(`task ${this.room.id}: storing the task failed: ${String(error)}`),
    );
    this.waiters.taskChanged();
    const snapshot = JSON.stringify({ type: "task.snapshot", task } satisfies TaskToViewer);
    for (const [socket, role] of this.roles.entries()) if (role !== "agent") socket.send(snapshot);
  }

  /** Asks the registry for an agent; a later attempt's prompt quotes what earlier ones printed. */
  private async dispatch(peers: TaskPeers, attempt: number): Promise<void> {
    const task = this.actor.task;
    if (task === null) return;
    const recent =
      this.log === null || attempt === 1 ? [] : await this.log.read(Math.max(0, this.log.nextSeq - 2000), 2000);
    // A later attempt's prompt carries the earlier attempts' diffs (docs/escalation.md): read them only then.
    const earlier = attempt === 1 ? [] : task.attempts.filter((a) => a.n < attempt && a.commit !== undefined);
    const diffs = new Map(
      await Promise.all(earlier.map(async (a): Promise<[number, string]> => [a.n, (await this.diffText(a.n)) ?? ""])),
    );
    const socket = this.registrySocket ?? undefined;
    this.registrySocket = null;
    const sent = await peers.dispatch(task, attempt, recent, diffs, socket, queueTimeoutFrom(this.room.env), (n) =>
      new SessionArchiveStore(this.room.storage, `task ${this.room.id}`).refOf(n),
    );
    if (!sent.ok) console.error(`task ${this.room.id}: ${sent.error.message}`);
  }

  /**
   * An attempt's diff; undefined when its stored pieces are corrupt (logged as read): a later prompt or a carried
   * session goes without it.
   */
  private async diffText(attempt: number): Promise<string | undefined> {
    const diff = await this.diffs?.read(attempt);
    return diff?.ok === true ? diff.value : undefined;
  }

  private dropRegistrySocket(): void {
    this.registrySocket?.discard();
    this.registrySocket = null;
  }

  private holderConnection(attempt: number): Party.Connection | undefined {
    const holder = this.holders.holderOf(attempt);
    return holder === undefined ? undefined : this.roles.socket(holder.connectionId);
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
