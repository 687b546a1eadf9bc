import type * as Party from "partykit/server";
import { DashboardToDirectory, DirectoryCommand, FINISHED_TASK_STATUSES, TaskStatus, parseMessage, type DirectoryToDashboard, type TaskSummary } from "../../protocol/index.ts";
import { gateRequest, gateSocket } from "../auth/room-gate.ts";
import { scopeSeesMesh } from "../auth/viewer-link.ts";
import { readJsonBody } from "../http/read-body.ts";
import { errorResponse, json } from "../http/responses.ts";
import { FloodGuard, FLOOD_CLOSE_CODE } from "../limits/flood-guard.ts";
import { TaskListFeed } from "./task-list-feed.ts";
import { TASK_STATUS_COUNTS_KEY, TaskStatusTally } from "../metrics/task-status-tally.ts";
import { answerPeerClose } from "../peer-close.ts";

const TASK_PREFIX = "task:";
const NAME_PREFIX = "name:";
/** How many summaries a filtered list reads at most before it stops looking. */
const MAX_SCAN = 5000;
/** Changes reach dashboards at most this often, as one message: a burst of creations is one frame, not thousands. */
const FEED_FLUSH_MS = 50;

/**
 * The task directory (one room, id "main"): the list of tasks, newest first, and the names of named
 * tasks. Task rooms keep it current (they list, index and unlist their own task); the edge asks
 * it to resolve names and to list tasks. Dashboards follow the list over a socket (docs/wire-protocol.md): the
 * summaries are then held in memory too (TaskListFeed), and every change goes out within 50 ms.
 */
export default class TaskDirectoryRoom implements Party.Server {
  readonly options = { hibernate: false };
  /** Loaded at the first dashboard's subscription; kept current by every write from then on. */
  private feed: Promise<TaskListFeed> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly subscribed = new WeakSet<Party.Connection>();
  private readonly guards = new WeakMap<Party.Connection, FloodGuard>();
  /** Tasks by status for `GET /metrics` (docs/metrics.md), moved with every write below. */
  private readonly tally: TaskStatusTally;

  constructor(readonly room: Party.Room) {
    this.tally = new TaskStatusTally({
      stored: () => room.storage.get(TASK_STATUS_COUNTS_KEY),
      allStatuses: async () => [...(await room.storage.list<TaskSummary>({ prefix: TASK_PREFIX })).values()].map((summary) => summary.status),
      statusOf: async (taskId) => (await room.storage.get<TaskSummary>(TASK_PREFIX + taskId))?.status,
    });
  }

  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby): Promise<Party.Request | Response> {
    return gateSocket(request, lobby, (caller) => caller.role === "orchestrator" || (caller.role === "viewer" && scopeSeesMesh(caller.scope)));
  }

  onConnect(connection: Party.Connection): void {
    answerPeerClose(connection);
    this.guards.set(connection, new FloodGuard());
  }

  async onMessage(raw: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
    const guard = this.guards.get(connection);
    if (guard !== undefined && !guard.admit(Date.now())) {
      connection.close(FLOOD_CLOSE_CODE, `more than ${guard.perSecond} messages a second; reconnect and send less`);
      return;
    }
    const parsed = parseMessage(DashboardToDirectory, raw);
    if (!parsed.ok) return send(connection, { type: "error", ...parsed.error });
    // One subscription per socket (the page sends one per open): a repeated one would cost a whole list each.
    if (this.subscribed.has(connection)) return send(connection, { type: "error", code: "conflict", message: "this socket already follows the task list; reconnect to subscribe again" });
    // Marked before the wait, so a second subscription arriving meanwhile is refused too; a change sent
    // before the list is harmless (the list's first part replaces everything).
    this.subscribed.add(connection);
    const feed = await this.loadFeed();
    for (const message of feed.answer(parsed.value)) send(connection, message);
  }

  private loadFeed(): Promise<TaskListFeed> {
    this.feed ??= this.room.storage.list<TaskSummary>({ prefix: TASK_PREFIX }).then((all) => new TaskListFeed(crypto.randomUUID(), all.values()));
    return this.feed;
  }

  /** Applies a change to the feed, if dashboards made one, and sends the changes of the next 50 ms together. */
  private async toFeed(change: (feed: TaskListFeed) => void): Promise<void> {
    if (this.feed === null) return;
    change(await this.feed);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      void this.feed?.then((feed) => {
        const message = feed.drain();
        if (message === null) return;
        const frame = JSON.stringify(message);
        for (const connection of this.room.getConnections()) if (this.subscribed.has(connection)) connection.send(frame);
      });
    }, FEED_FLUSH_MS);
  }

  async onRequest(request: Party.Request): Promise<Response> {
    const refused = await gateRequest(request, this.room.env);
    if (refused !== null) return refused;
    if (request.method === "GET") return this.read(new URL(request.url));
    if (request.method !== "POST") return errorResponse("not_found", `${request.method} is not served here`);
    const body = await readJsonBody(request as unknown as Request, DirectoryCommand);
    if (!body.ok) return errorResponse(body.error.code, body.error.message);
    const command = body.value;
    if (command.type === "task.unlisted") return this.unlist(command.task_id);
    const { summary } = command;
    if (command.type === "task.register" && summary.name !== undefined) {
      const holder = await this.byName(summary.name);
      if (holder !== undefined && holder.task_id !== summary.task_id && !FINISHED_TASK_STATUSES.includes(holder.status)) {
        return errorResponse("name_in_use", `name '${summary.name}' is held by task ${holder.task_id}, which is ${holder.status}; wait for it, cancel it, or pick another name`);
      }
    }
    const writes: Record<string, unknown> = { [TASK_PREFIX + summary.task_id]: summary };
    if (summary.name !== undefined) writes[NAME_PREFIX + summary.name] = summary.task_id;
    await this.tally.change(summary.task_id, summary.status, (counts) => this.room.storage.put({ ...writes, ...counts }));
    await this.toFeed((feed) => feed.put(summary));
    return json(summary, 201);
  }

  /** A task that was never admitted leaves no trace: its summary goes, and its name if it held it. */
  private async unlist(taskId: string): Promise<Response> {
    const summary = await this.room.storage.get<TaskSummary>(TASK_PREFIX + taskId);
    if (summary === undefined) return json({ unlisted: false });
    const keys = [TASK_PREFIX + taskId];
    if (summary.name !== undefined && (await this.room.storage.get<string>(NAME_PREFIX + summary.name)) === taskId) keys.push(NAME_PREFIX + summary.name);
    await this.tally.change(taskId, undefined, (counts) => Promise.all([this.room.storage.delete(keys), this.room.storage.put(counts)]));
    await this.toFeed((feed) => feed.remove(taskId));
    return json({ unlisted: true });
  }

  private async byName(name: string): Promise<TaskSummary | undefined> {
    const taskId = await this.room.storage.get<string>(NAME_PREFIX + name);
    return taskId === undefined ? undefined : this.room.storage.get<TaskSummary>(TASK_PREFIX + taskId);
  }

  private async read(url: URL): Promise<Response> {
    if (url.searchParams.get("view") === "metrics") return json({ tasks: await this.tally.current() });
    const name = url.searchParams.get("name");
    if (name !== null) {
      const summary = await this.byName(name);
      return summary === undefined ? errorResponse("not_found", `no task named '${name}'`) : json(summary);
    }
    const statusParam = url.searchParams.get("status");
    const status = statusParam === null || statusParam === "" ? null : TaskStatus.safeParse(statusParam);
    if (status !== null && !status.success) return errorResponse("bad_request", `status: must be one of ${TaskStatus.options.join(", ")}`);
    const limit = Math.min(500, Math.max(1, Number(url.searchParams.get("limit") ?? 50) || 50));
    // ULIDs sort by creation time, so reverse key order is newest first.
    const page = await this.room.storage.list<TaskSummary>({ prefix: TASK_PREFIX, reverse: true, limit: status === null ? limit : MAX_SCAN });
    const tasks = [...page.values()].filter((summary) => status === null || summary.status === status.data).slice(0, limit);
    return json({ tasks });
  }
}

function send(connection: Party.Connection, message: DirectoryToDashboard): void {
  connection.send(JSON.stringify(message));
}

TaskDirectoryRoom satisfies Party.Worker;
