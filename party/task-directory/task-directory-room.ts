import type * as Party from "partykit/server";
import { z } from "zod";
import {
  DashboardToDirectory,
  DirectoryCommand,
  type DirectoryToDashboard,
  FINISHED_TASK_STATUSES,
  type Result,
  TaskStatus,
  TaskStatusCounts,
  TaskSummary,
} from "../../protocol/index.ts";
import { scopeSeesMesh } from "../auth/viewer-link.ts";
import { errorResponse, json } from "../http/responses.ts";
import { FLOOD_LIMITS } from "../limits/flood-guard.ts";
import { type Channel, MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { TASK_STATUS_COUNTS_KEY, TaskStatusTally } from "../metrics/task-status-tally.ts";
import { answerPeerClose } from "../peer-close.ts";
import { listStored, readStored, type StorageFault } from "../stored-records.ts";
import { TaskListFeed } from "./task-list-feed.ts";

const TASK_PREFIX = "task:";
const NAME_PREFIX = "name:";
/** How many summaries a filtered list reads at most before it stops looking. */
const MAX_SCAN = 5000;
/** Changes reach dashboards at most this often, as one message: a burst of creations is one frame, not thousands. */
const FEED_FLUSH_MS = 50;
/** How the directory names itself in logs of corrupt records (docs/rooms.md "Stored records"). */
const WHERE = "directory";

/**
 * The task directory (one room, id "main"): the list of tasks, newest first, and the names of named
 * tasks. Task rooms keep it current (they list, index and unlist their own task); the edge asks
 * it to resolve names and to list tasks. Dashboards follow the list over a socket (docs/wire-protocol.md): the
 * summaries are then held in memory too (TaskListFeed), and every change goes out within 50 ms.
 */
export default class TaskDirectoryRoom extends MeshRoom<DirectoryCommand, DashboardToDirectory, DirectoryToDashboard> {
  static override readonly sockets: SocketPolicy = {
    open: true,
    admits: (caller) => caller.role === "orchestrator" || (caller.role === "viewer" && scopeSeesMesh(caller.scope)),
  };
  protected readonly commands = DirectoryCommand;
  /** Loaded at the first dashboard's subscription; kept current by every write from then on. */
  private feed: Promise<TaskListFeed> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly subscribed = new WeakSet<Party.Connection>();
  /** Tasks by status for `GET /metrics` (docs/metrics.md), moved with every write below. */
  private readonly tally: TaskStatusTally;

  constructor(room: Party.Room) {
    super(room);
    // A corrupt record is logged and counted as absent: unreadable counts are counted again from the
    // listing, an unreadable summary is left out of it (docs/rooms.md "Stored records").
    this.tally = new TaskStatusTally({
      stored: async () => {
        const counts = await readStored(room.storage, WHERE, TASK_STATUS_COUNTS_KEY, TaskStatusCounts);
        return counts.ok ? counts.value : undefined;
      },
      allStatuses: async () => [...(await this.summaries({ prefix: TASK_PREFIX }))].map((summary) => summary.status),
      statusOf: async (taskId) => {
        const summary = await this.summary(taskId);
        return summary.ok ? summary.value?.status : undefined;
      },
    });
  }

  onConnect(connection: Party.Connection): void {
    answerPeerClose(connection);
  }

  protected override channelOf(): Channel<DashboardToDirectory> {
    return { schema: DashboardToDirectory, perSecond: FLOOD_LIMITS.viewer };
  }

  protected override async onSocketMessage(
    subscribe: DashboardToDirectory,
    connection: Party.Connection,
  ): Promise<void> {
    // One subscription per socket (the page sends one per open): a repeated one would cost a whole list each.
    if (this.subscribed.has(connection))
      return this.send(connection, {
        type: "error",
        code: "conflict",
        message: "this socket already follows the task list; reconnect to subscribe again",
      });
    // Marked before the wait, so a second subscription arriving meanwhile is refused too; a change sent
    // before the list is harmless (the list's first part replaces everything).
    this.subscribed.add(connection);
    const feed = await this.loadFeed();
    for (const message of feed.answer(subscribe)) this.send(connection, message);
  }

  private loadFeed(): Promise<TaskListFeed> {
    this.feed ??= this.summaries({ prefix: TASK_PREFIX }).then((all) => new TaskListFeed(crypto.randomUUID(), all));
    return this.feed;
  }

  /** Listed summaries, parsed; a corrupt one is logged and left out. */
  private async summaries(options: { prefix: string; reverse?: boolean; limit?: number }): Promise<TaskSummary[]> {
    return [...(await listStored(this.room.storage, WHERE, options, TaskSummary)).records.values()];
  }

  /** One task's summary: undefined when unlisted, or a logged `corrupt` fault. */
  private summary(taskId: string): Promise<Result<TaskSummary | undefined, StorageFault>> {
    return readStored(this.room.storage, WHERE, TASK_PREFIX + taskId, TaskSummary);
  }

  /** Applies a change to the feed, if dashboards made one, and sends the changes of the next 50 ms together. */
  private async toFeed(change: (feed: TaskListFeed) => void): Promise<void> {
    if (this.feed === null) return;
    change(await this.feed);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      void this.feed?.then((feed) => {
        const message = feed.drain();
        if (message !== null) this.broadcast(message, (connection) => this.subscribed.has(connection));
      });
    }, FEED_FLUSH_MS);
  }

  protected async onCommand(command: DirectoryCommand): Promise<Response> {
    if (command.type === "task.unlisted") return this.unlist(command.task_id);
    const { summary } = command;
    if (command.type === "task.register" && summary.name !== undefined) {
      // A holder whose summary is corrupt (logged) holds nothing: the name goes to the new task.
      const found = await this.byName(summary.name);
      const holder = found.ok ? found.value : undefined;
      if (
        holder !== undefined &&
        holder.task_id !== summary.task_id &&
        !FINISHED_TASK_STATUSES.includes(holder.status)
      ) {
        return errorResponse(
          "name_in_use",
          `name '${summary.name}' is held by task ${holder.task_id}, which is ${holder.status}; wait for it, cancel it, or pick another name`,
        );
      }
    }
    const writes: Record<string, unknown> = { [TASK_PREFIX + summary.task_id]: summary };
    if (summary.name !== undefined) writes[NAME_PREFIX + summary.name] = summary.task_id;
    await this.tally.change(summary.task_id, summary.status, (counts) =>
      this.room.storage.put({ ...writes, ...counts }),
    );
    await this.toFeed((feed) => feed.put(summary));
    return json(summary, 201);
  }

  /** A task that was never admitted leaves no trace: its summary goes, and its name if it held it. */
  private async unlist(taskId: string): Promise<Response> {
    const stored = await this.summary(taskId);
    // A corrupt summary (logged) goes like any other; only the name it may have held cannot be known.
    const summary = stored.ok ? stored.value : { name: undefined };
    if (summary === undefined) return json({ unlisted: false });
    const keys = [TASK_PREFIX + taskId];
    if (summary.name !== undefined && (await this.holderOf(summary.name)) === taskId)
      keys.push(NAME_PREFIX + summary.name);
    await this.tally.change(taskId, undefined, (counts) =>
      Promise.all([this.room.storage.delete(keys), this.room.storage.put(counts)]),
    );
    await this.toFeed((feed) => feed.remove(taskId));
    return json({ unlisted: true });
  }

  /** The task a name points at; a corrupt entry (logged) points nowhere. */
  private async holderOf(name: string): Promise<string | undefined> {
    const taskId = await readStored(this.room.storage, WHERE, NAME_PREFIX + name, z.string());
    return taskId.ok ? taskId.value : undefined;
  }

  private async byName(name: string): Promise<Result<TaskSummary | undefined, StorageFault>> {
    const taskId = await this.holderOf(name);
    return taskId === undefined ? { ok: true, value: undefined } : this.summary(taskId);
  }

  protected override async onRead(url: URL): Promise<Response> {
    if (url.searchParams.get("view") === "metrics") return json({ tasks: await this.tally.current() });
    const name = url.searchParams.get("name");
    if (name !== null) {
      const summary = await this.byName(name);
      // The edge resolves a name to act on its task: an unreadable summary is refused, never guessed.
      if (!summary.ok) return errorResponse("internal", `task named '${name}': ${summary.error.message}`);
      return summary.value === undefined ? errorResponse("not_found", `no task named '${name}'`) : json(summary.value);
    }
    const statusParam = url.searchParams.get("status");
    const status = statusParam === null || statusParam === "" ? null : TaskStatus.safeParse(statusParam);
    if (status !== null && !status.success)
      return errorResponse("bad_request", `status: must be one of ${TaskStatus.options.join(", ")}`);
    const limit = Math.min(500, Math.max(1, Number(url.searchParams.get("limit") ?? 50) || 50));
    // ULIDs sort by creation time, so reverse key order is newest first.
    const page = await this.summaries({
      prefix: TASK_PREFIX,
      reverse: true,
      limit: status === null ? limit : MAX_SCAN,
    });
    const tasks = page.filter((summary) => status === null || summary.status === status.data).slice(0, limit);
    return json({ tasks });
  }
}

TaskDirectoryRoom satisfies Party.Worker;
