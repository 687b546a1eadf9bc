// What dashboards follow of the task list (docs/wire-protocol.md): every summary in memory, a sequence number per
// change, and the answer to a (re)subscription — the whole list, or only what changed since the
// subscriber's last message when it comes back to the same room instance (the same `epoch`).
import {
  TASK_LIST_FEED_MAX,
  TASK_LIST_PART,
  type TaskSummary,
  type TasksChanged,
  type TasksSnapshot,
  type TasksSubscribe,
} from "../../protocol/index.ts";

export class TaskListFeed {
  /** Every listed task's summary, by id. */
  private readonly summaries = new Map<string, TaskSummary>();
  /** The sequence number of each task's last change (0: as loaded). */
  private readonly changedAt = new Map<string, number>();
  /** Tasks unlisted since the load, with the sequence number of that change. */
  private readonly removedAt = new Map<string, number>();
  /** Changes not yet sent to subscribers. */
  private readonly unsent = new Set<string>();
  private seq = 0;

  /** `epoch`: this room instance's; a subscriber from another instance gets the whole list. */
  constructor(
    readonly epoch: string,
    loaded: Iterable<TaskSummary>,
  ) {
    for (const summary of loaded) {
      this.summaries.set(summary.task_id, summary);
      this.changedAt.set(summary.task_id, 0);
    }
  }

  put(summary: TaskSummary): void {
    this.seq += 1;
    this.summaries.set(summary.task_id, summary);
    this.changedAt.set(summary.task_id, this.seq);
    this.removedAt.delete(summary.task_id);
    this.unsent.add(summary.task_id);
  }

  remove(taskId: string): void {
    if (!this.summaries.delete(taskId)) return;
    this.seq += 1;
    this.changedAt.delete(taskId);
    this.removedAt.set(taskId, this.seq);
    this.unsent.add(taskId);
  }

  /**
   * The answer to a subscription, in order: what changed since its `seq` when that `seq` is this instance's; else the
   * list, in parts.
   */
  answer(subscribe: TasksSubscribe): (TasksSnapshot | TasksChanged)[] {
    const since = subscribe.seq;
    if (subscribe.epoch === this.epoch && since !== undefined && since <= this.seq) return [this.changesSince(since)];
    const newest = [...this.summaries.values()].sort((a, b) => (a.task_id < b.task_id ? 1 : -1));
    const listed = newest.slice(0, TASK_LIST_FEED_MAX);
    const parts = Math.max(1, Math.ceil(listed.length / TASK_LIST_PART));
    return Array.from({ length: parts }, (_, part) => ({
      type: "tasks.snapshot",
      epoch: this.epoch,
      seq: this.seq,
      part,
      parts,
      tasks: listed.slice(part * TASK_LIST_PART, (part + 1) * TASK_LIST_PART),
      more: newest.length > TASK_LIST_FEED_MAX,
    }));
  }

  /** The changes not yet sent, as one message (null when there are none); every subscriber gets the same. */
  drain(): TasksChanged | null {
    if (this.unsent.size === 0) return null;
    const tasks: TaskSummary[] = [];
    const removed: string[] = [];
    for (const taskId of this.unsent) {
      const summary = this.summaries.get(taskId);
      if (summary === undefined) removed.push(taskId);
      else tasks.push(summary);
    }
    this.unsent.clear();
    return { type: "tasks.changed", epoch: this.epoch, seq: this.seq, tasks, removed };
  }

  private changesSince(since: number): TasksChanged {
    const tasks = [...this.changedAt]
      .filter(([, at]) => at > since)
      .flatMap(([taskId]) => this.summaries.get(taskId) ?? []);
    const removed = [...this.removedAt].filter(([, at]) => at > since).map(([taskId]) => taskId);
    return { type: "tasks.changed", epoch: this.epoch, seq: this.seq, tasks, removed };
  }
}
