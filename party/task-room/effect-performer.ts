import type * as Party from "partykit/server";
import { CloseCode, type Result, type TaskRecord, type TaskToAgent, type TaskToViewer } from "../../protocol/index.ts";
import type { SocketRole } from "../auth/room-gate.ts";
import type { LiveSockets } from "../live-sockets.ts";
import { announce } from "../notification-outbox/announce.ts";
import { servedTiers } from "../room-peers.ts";
import type { AttemptHolders } from "./attempt-holders.ts";
import type { ChangeWaiters } from "./change-waiters.ts";
import type { DiffStore } from "./diff-store.ts";
import type { LogStore } from "./log-store.ts";
import { queueTimeoutFrom } from "./queue-settings.ts";
import { RegistrySocket } from "./registry-socket.ts";
import { systemLine } from "./room-replies.ts";
import { SessionArchiveStore } from "./session-archive-route.ts";
import type { TaskEffect, TaskEvent } from "./task-actor.ts";
import { pullRequestText } from "./task-delivery.ts";
import { TaskPeers } from "./task-peers.ts";
import { exportSpans } from "./task-trace.ts";
import type { ViewerFeed } from "./viewer-feed.ts";

/** The storage key of the task record. */
export const TASK_KEY = "task";

/** What the effects act on: the task room's storage, sockets and output, and the way back into its actor. */
export interface EffectTarget {
  readonly room: Party.Room;
  readonly log: LogStore;
  readonly feed: ViewerFeed;
  readonly diffs: DiffStore;
  readonly holders: AttemptHolders;
  readonly roles: LiveSockets<SocketRole>;
  readonly waiters: ChangeWaiters;
  /** The task as the actor has it now. */
  task(): TaskRecord | null;
  /** The token the room calls other rooms with. */
  token(): string;
  /** Runs an event (an effect's answer) through the actor and carries out its effects in turn. */
  run(event: TaskEvent): Promise<Result<TaskRecord> | undefined>;
  send(connection: Party.Connection, message: TaskToAgent | TaskToViewer): void;
}

/**
 * Carries out the task actor's effects for the task room (docs/task-room.md). Writes are issued and not awaited: the
 * output gate holds whatever is sent after them until they are durable (docs/output-gate.md). An effect that asks
 * another room feeds its answer back to the actor as an event; the reply of a request may come from that event.
 */
export class EffectPerformer {
  /** A socket to the registry opened while an admission or reservation is asked, for the dispatch after it. */
  private registrySocket: RegistrySocket | null = null;

  constructor(private readonly target: EffectTarget) {}

  perform(effect: TaskEffect): Promise<Result<TaskRecord> | undefined> | undefined {
    const { room, holders, roles } = this.target;
    const peers = new TaskPeers(room.context.parties, () => this.target.token(), room.id, this.target.task()?.kind);
    switch (effect.kind) {
      case "ask-admission":
        this.registrySocket ??= new RegistrySocket(room.context.parties, this.target.token());
        return peers.admit(effect.reserve?.tier, effect.summary, effect.selector).then(async (admission) => {
          const reply = await this.target.run({ type: "admission-answered", ...admission });
          if (reply?.ok !== true) this.dropRegistrySocket();
          return reply;
        });
      case "reserve-attempt":
        this.registrySocket ??= new RegistrySocket(room.context.parties, this.target.token());
        return peers.reserve(effect.attempt, effect.tier).then((result) => {
          if (!result.ok) this.dropRegistrySocket();
          return this.target.run({ type: "reservation-answered", attempt: effect.attempt, result });
        });
      case "ask-start":
        return peers.start(effect.hello.attempt, effect.tier, effect.hello.executor).then((grant) =>
          this.target.run({
            type: "start-answered",
            hello: effect.hello,
            connectionId: effect.connectionId,
            grant,
            linesStored: holders.linesOf(effect.hello.attempt),
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
        const replaced = holders.hold(effect.attempt, { connectionId: effect.connectionId, agent: effect.agent });
        if (replaced !== null) roles.socket(replaced)?.close(CloseCode.replaced, "the agent reconnected");
        return undefined;
      }
      case "unbind-attempt": {
        const connection = effect.close === undefined ? undefined : this.holderSocket(effect.attempt);
        holders.release(effect.attempt);
        connection?.close(CloseCode.notAssigned, effect.close);
        return undefined;
      }
      case "send-to-agent": {
        const connection = roles.socket(effect.connectionId);
        if (connection === undefined) return undefined;
        this.target.send(connection, effect.message);
        if (effect.close === "not_assigned") connection.close(CloseCode.notAssigned, "attempt not assigned");
        return undefined;
      }
      case "log-note":
        this.note(effect.text, effect.attempt);
        return undefined;
      case "ask-apply":
        return peers
          .apply(effect.request)
          .then((outcome) => this.target.run({ type: "apply-answered", attempt: effect.request.attempt, outcome }));
      case "ask-delivery": {
        // Not awaited: a push and a pull request may take minutes, and nothing else waits for them.
        const link =
          typeof room.env.MESH_PUBLIC_URL === "string" && room.env.MESH_PUBLIC_URL !== ""
            ? `${room.env.MESH_PUBLIC_URL.replace(/\/+$/, "")}/#task=${room.id}`
            : undefined;
        const task = this.target.task();
        const request =
          effect.request.mode === "pr" && task !== null
            ? { ...effect.request, pull_request: pullRequestText(task, link) }
            : effect.request;
        void peers
          .deliver(request)
          .then((outcome) =>
            this.target.run({ type: "delivery-answered", attempt: request.attempt, mode: request.mode, outcome }),
          );
        return undefined;
      }
      case "free-worktrees":
        return peers.ended(effect.agents, effect.keep).then(() => undefined);
      case "watch-tasks":
        return peers.watch(effect.ids).then(async (heard) => {
          for (const problem of heard.problems) console.error(`task ${room.id}: ${problem}`);
          for (const news of heard.news) await this.target.run({ type: "dependency-heard", news });
          return undefined;
        });
      case "notify-dependents":
        return peers.notify(effect.dependents, effect.news).then(() => undefined);
      case "announce-events":
        return void announce(room.context.parties, room.env, effect.events);
      case "export-spans":
        return void exportSpans(room.context.parties, room.env, () => this.target.token(), effect.task);
      case "read-served-tiers":
        return servedTiers(
          room.context.parties,
          this.target.token(),
          this.target.task()?.agent_selector ?? { by: "any" },
        ).then((served) => this.target.run({ type: "served-tiers-read", served }));
      case "stop-attempt": {
        const connection = this.holderSocket(effect.attempt);
        if (connection !== undefined)
          this.target.send(connection, { type: "attempt.cancel", attempt: effect.attempt, reason: effect.reason });
        return undefined;
      }
    }
  }

  /** The socket of the agent that holds the attempt now, if it is connected. */
  holderSocket(attempt: number): Party.Connection | undefined {
    const holder = this.target.holders.holderOf(attempt);
    return holder === undefined ? undefined : this.target.roles.socket(holder.connectionId);
  }

  /** A `[mesh]` line in the log, with no change of the task. */
  private note(text: string, attempt: number): void {
    const appended = this.target.log.append([systemLine(attempt, text)]);
    this.target.feed.publish(appended.lines);
    appended.written.catch((error: unknown) =>
      console.error(`task ${this.target.room.id}: storing a note failed: ${String(error)}`),
    );
  }

  /** Issues the write of a new task state (with its note in the log), shows it to viewers, wakes waiters. */
  private store(task: TaskRecord, note: string, attempt: number): void {
    const appended = this.target.log.append([systemLine(attempt, `[mesh] ${note}`)], { [TASK_KEY]: task });
    this.target.feed.publish(appended.lines);
    appended.written.catch((error: unknown) =>
      console.error(`task ${this.target.room.id}: storing the task failed: ${String(error)}`),
    );
    this.target.waiters.taskChanged();
    const snapshot = JSON.stringify({ type: "task.snapshot", task } satisfies TaskToViewer);
    for (const [socket, role] of this.target.roles.entries()) if (role !== "agent") socket.send(snapshot);
  }

  /** Asks the registry for an agent; a later attempt's prompt quotes what earlier ones printed. */
  private async dispatch(peers: TaskPeers, attempt: number): Promise<void> {
    const { room, log, diffs } = this.target;
    const task = this.target.task();
    if (task === null) return;
    const recent = attempt === 1 ? [] : await log.read(Math.max(0, log.nextSeq - 2000), 2000);
    // A later attempt's prompt carries the earlier attempts' diffs (docs/escalation.md): read them only then.
    const earlier = attempt === 1 ? [] : task.attempts.filter((a) => a.n < attempt && a.commit !== undefined);
    const texts = new Map(
      await Promise.all(earlier.map(async (a): Promise<[number, string]> => [a.n, (await diffs.text(a.n)) ?? ""])),
    );
    const socket = this.registrySocket ?? undefined;
    this.registrySocket = null;
    const sent = await peers.dispatch(task, attempt, recent, texts, socket, queueTimeoutFrom(room.env), (n) =>
      new SessionArchiveStore(room.storage, `task ${room.id}`).refOf(n),
    );
    if (!sent.ok) console.error(`task ${room.id}: ${sent.error.message}`);
  }

  private dropRegistrySocket(): void {
    this.registrySocket?.discard();
    this.registrySocket = null;
  }
}
