import type { TaskStatus } from "../../protocol/index.ts";
import { TaskStatusCounts } from "../../protocol/metrics.ts";

// Tasks by status for `agent_mesh_tasks` (docs/metrics.md): the directory moves one count each time
// it stores or drops a summary, and keeps the counts in storage, so a scrape reads one small record
// instead of every task.

/** Where the directory keeps the counts. */
export const TASK_STATUS_COUNTS_KEY = "metrics:tasks-by-status";

/** The counts after a task moved from `from` to `to` (absent: not listed before / no longer listed). */
export function countStatusChange(
  counts: TaskStatusCounts,
  from: TaskStatus | undefined,
  to: TaskStatus | undefined,
): TaskStatusCounts {
  if (from === to) return counts;
  const next = { ...counts };
  if (from !== undefined) next[from] = Math.max(0, (next[from] ?? 0) - 1);
  if (to !== undefined) next[to] = (next[to] ?? 0) + 1;
  return next;
}

/** Counts of a whole listing: only when no counts were stored yet (a directory that predates them), once. */
export function countStatuses(statuses: Iterable<TaskStatus>): TaskStatusCounts {
  let counts: TaskStatusCounts = {};
  for (const status of statuses) counts = countStatusChange(counts, undefined, status);
  return counts;
}

/** What the tally needs of the directory's storage. */
export type TallyStorage = {
  /** The stored counts, if any. */
  stored(): Promise<unknown>;
  /** Every listed task's status (read once, when no counts were stored). */
  allStatuses(): Promise<Iterable<TaskStatus>>;
  /** The listed status of one task, or undefined. */
  statusOf(taskId: string): Promise<TaskStatus | undefined>;
};

/**
 * The directory's counts in memory. Each change reads the task's listed status and issues its write
 * in turn, one change after another: two updates of one task arriving together cannot both count
 * from the same old status.
 */
export class TaskStatusTally {
  private counts: Promise<TaskStatusCounts> | null = null;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly storage: TallyStorage) {}

  /** The counts now. */
  current(): Promise<TaskStatusCounts> {
    this.counts ??= this.load();
    return this.counts;
  }

  /**
   * Records that task `taskId` is now listed with `to` (undefined: unlisted): `write` gets the counts'
   * storage entry to put together with the summary, and its answer is returned.
   */
  change<T>(
    taskId: string,
    to: TaskStatus | undefined,
    write: (entry: Record<string, TaskStatusCounts>) => Promise<T>,
  ): Promise<T> {
    const step = this.turn.then(async () => {
      const [counts, from] = await Promise.all([this.current(), this.storage.statusOf(taskId)]);
      const next = countStatusChange(counts, from, to);
      this.counts = Promise.resolve(next);
      // Issued in turn, not awaited in it: storage reads see an issued write, so the next change reads this status.
      return { written: write({ [TASK_STATUS_COUNTS_KEY]: next }) };
    });
    this.turn = step.catch(() => undefined);
    return step.then(({ written }) => written);
  }

  private async load(): Promise<TaskStatusCounts> {
    const stored = await this.storage.stored();
    const parsed = stored === undefined ? null : TaskStatusCounts.safeParse(stored);
    // Absent (or unreadable): counted from the listing once; every change after keeps them.
    return parsed?.success === true ? parsed.data : countStatuses(await this.storage.allStatuses());
  }
}
