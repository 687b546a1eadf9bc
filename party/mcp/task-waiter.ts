import { FINISHED_TASK_STATUSES, type TaskView } from "../../protocol/index.ts";
import { credentialName } from "../auth/credentials.ts";
import { type MeshContext, type Outcome, present, waitForChanges } from "../edge/mesh-operations.ts";
import { openLongPoll, requestLimitsFrom } from "../limits/request-limits.ts";

/** How many of the newest lines a progress notification carries. */
const PROGRESS_LINES = 20;
/** One long poll at most this long, so progress (or a heartbeat of it) reaches the client regularly. */
const POLL_SLICE_MS = 15_000;

export type Progress = { progress: number; message: string };

/**
 * Waits until the task finishes (or awaits a person) or `waitS` runs out, reporting new output lines
 * as progress, so a client that resets its timeout on progress keeps waiting. The task room wakes
 * the wait at once on a change of the task and within 25 ms for new lines (a long poll), so
 * a finished task is seen at once and a chatty one does not flood the client. Returns the task then.
 */
export async function waitForTask(
  ctx: MeshContext,
  taskId: string,
  waitS: number,
  onProgress: (progress: Progress) => Promise<void>,
  signal: AbortSignal,
): Promise<Outcome<TaskView>> {
  // Open waits per credential are bounded (MESH_LONG_POLLS_MAX, docs/settings.md): each holds a task room's long poll.
  const release = openLongPoll(credentialName(ctx.caller), requestLimitsFrom(ctx.env));
  if (release === null)
    return {
      ok: false,
      error: {
        code: "rate_limited",
        message: `too many waits open for this credential (MESH_LONG_POLLS_MAX=${requestLimitsFrom(ctx.env).longPolls}); wait for some to end, or call with wait_s 0 and poll`,
      },
    };
  try {
    return await waitLoop(ctx, taskId, waitS, onProgress, signal);
  } finally {
    release();
  }
}

async function waitLoop(
  ctx: MeshContext,
  taskId: string,
  waitS: number,
  onProgress: (progress: Progress) => Promise<void>,
  signal: AbortSignal,
): Promise<Outcome<TaskView>> {
  const deadline = Date.now() + waitS * 1000;
  let revision = -1;
  let nextSeq = 0;
  for (;;) {
    const remaining = deadline - Date.now();
    const changes = await waitForChanges(
      ctx,
      taskId,
      revision,
      nextSeq,
      Math.max(0, Math.min(POLL_SLICE_MS, remaining)),
    );
    if (!changes.ok) return changes;
    const { task, lines } = changes.value;
    revision = changes.value.revision;
    const last = lines.at(-1);
    if (last !== undefined) nextSeq = last.seq + 1;
    const newest = lines
      .slice(-PROGRESS_LINES)
      .map((line) => (line.stream === "stdout" ? line.text : `[${line.stream}] ${line.text}`));
    await onProgress({ progress: nextSeq, message: [`${task.status} at tier ${task.tier}`, ...newest].join("\n") });
    const settled = FINISHED_TASK_STATUSES.includes(task.status) || task.status === "awaiting_human";
    // The long poll brought the task itself: answered from it, with no further round trip.
    if (settled || Date.now() >= deadline || signal.aborted) return { ok: true, value: await present(ctx, task) };
  }
}
