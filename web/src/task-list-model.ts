// The dashboard's task list as data (docs/page.md): the directory's summaries, kept current from its
// messages, and the rows a filter and a search leave — tasks waiting for a person first, then newest
// first. Pure, so it is tested without a browser.
import type { DirectoryToDashboard, TaskStatus, TaskSummary } from "../../protocol/index.ts";

/** Which tasks the list shows: one status or all, and words that must all appear. */
export type TaskListQuery = { status: TaskStatus | "all"; search: string };

export class TaskListModel {
  private readonly tasks = new Map<string, TaskSummary>();
  /** Where the feed is: sent back on a reconnect so only the changes come (TasksSubscribe). */
  epoch: string | undefined;
  seq: number | undefined;
  /** The directory holds older tasks than the list (read them with GET /api/tasks). */
  more = false;

  /** Applies a snapshot or a change; false for messages that are not the list's. */
  apply(message: DirectoryToDashboard): boolean {
    if (message.type === "error") return false;
    if (message.type === "tasks.snapshot" && message.part === 0) {
      this.tasks.clear();
      this.more = message.more;
      // Until its last part arrives, a reconnect asks for the whole list again.
      this.epoch = undefined;
      this.seq = undefined;
    }
    for (const summary of message.tasks) this.tasks.set(summary.task_id, summary);
    if (message.type === "tasks.changed") for (const taskId of message.removed) this.tasks.delete(taskId);
    if (message.type === "tasks.changed" || message.part === message.parts - 1) {
      this.epoch = message.epoch;
      this.seq = message.seq;
    }
    return true;
  }

  get size(): number {
    return this.tasks.size;
  }

  /** The rows `query` leaves, in the order shown. */
  rows(query: TaskListQuery): TaskSummary[] {
    const words = searchWords(query.search);
    const rows: TaskSummary[] = [];
    for (const task of this.tasks.values()) {
      if (query.status !== "all" && task.status !== query.status) continue;
      if (words.length > 0 && !matchesWords(task, words)) continue;
      rows.push(task);
    }
    return rows.sort(listOrder);
  }

  /** How many tasks have each status (the filter's counts). */
  counts(): Map<TaskStatus, number> {
    const counts = new Map<TaskStatus, number>();
    for (const task of this.tasks.values()) counts.set(task.status, (counts.get(task.status) ?? 0) + 1);
    return counts;
  }
}

/** Waiting for a person first (they are what the reader must act on), then newest first (ULIDs sort by time). */
export function listOrder(a: TaskSummary, b: TaskSummary): number {
  const pinned = Number(b.status === "awaiting_human") - Number(a.status === "awaiting_human");
  if (pinned !== 0) return pinned;
  return a.task_id < b.task_id ? 1 : a.task_id > b.task_id ? -1 : 0;
}

export function searchWords(search: string): string[] {
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== "");
}

/** Every word appears in the task's name, id, instruction, kind, tier or agent. */
function matchesWords(task: TaskSummary, words: readonly string[]): boolean {
  const text = [task.name ?? "", task.task_id, task.instruction, task.kind ?? "", task.tier, task.agent ?? ""]
    .join("\n")
    .toLowerCase();
  return words.every((word) => text.includes(word));
}
