import type { NotificationEvent, TaskRecord } from "../../protocol/index.ts";

/**
 * The webhook events a change of a task makes (docs/notifications.md): `task.awaiting_human` when it
 * comes to the human step, and, for a task created with `notify: true`, `task.succeeded` or
 * `task.failed` when it ends. Ids are stable for one happening (the attempt count tells one human
 * step from the next), so a change handed to the outbox twice is delivered once.
 */
export function taskNotices(previous: TaskRecord | null, task: TaskRecord): NotificationEvent[] {
  const was = previous?.status;
  if (task.status === was) return [];
  const about = {
    task_id: task.task_id,
    ...(task.name === undefined ? {} : { name: task.name }),
    status: task.status,
    tier: task.tier,
    cost_usd: task.cost_usd,
  };
  const label = task.name ?? task.task_id;
  if (task.status === "awaiting_human") {
    const why = task.human?.reason ?? "the ladder has no tier left to try";
    return [
      {
        id: `${task.task_id}:awaiting_human:${task.attempts.length}`,
        type: "task.awaiting_human",
        at: task.updated_at,
        reason: `task ${label} needs a person: ${why}`.slice(0, 2000),
        task: about,
      },
    ];
  }
  if (task.notify !== true || (task.status !== "succeeded" && task.status !== "failed")) return [];
  const reason =
    task.status === "succeeded"
      ? `task ${label} succeeded after ${task.attempts.length} attempt(s)`
      : `task ${label} failed: ${task.error?.message ?? "no attempt succeeded"}`;
  return [
    {
      id: `${task.task_id}:${task.status}`,
      type: task.status === "succeeded" ? "task.succeeded" : "task.failed",
      at: task.updated_at,
      reason: reason.slice(0, 2000),
      task: about,
    },
  ];
}
