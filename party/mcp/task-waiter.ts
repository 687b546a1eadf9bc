import { FINISHED_TASK_STATUSES, type LogLine, type TaskView } from "../../protocol/index.ts";
import { getLogs, getTask, type MeshContext, type Outcome } from "../edge/mesh-operations.ts";

/** How often a waiting tool looks at its task. */
const POLL_MS = 250;
/** How many of the newest lines a progress notification carries. */
const PROGRESS_LINES = 20;

export type Progress = { progress: number; message: string };

/**
 * Waits until the task finishes or `waitS` runs out, reporting new output lines as progress (so a
 * client that resets its timeout on progress keeps waiting). Returns the task as it is then.
 */
export async function waitForTask(
  ctx: MeshContext,
  taskId: string,
  waitS: number,
  onProgress: (progress: Progress) => Promise<void>,
  signal: AbortSignal,
): Promise<Outcome<TaskView>> {
  const deadline = Date.now() + waitS * 1000;
  let nextSeq = 0;
  let reported = -1;
  for (;;) {
    const task = await getTask(ctx, taskId);
    if (!task.ok) return task;
    const logs = await getLogs(ctx, taskId, nextSeq);
    if (logs.ok && logs.value.lines.length > 0) {
      const lines: LogLine[] = logs.value.lines;
      nextSeq = (lines.at(-1)?.seq ?? nextSeq - 1) + 1;
      const newest = lines.slice(-PROGRESS_LINES).map((line) => (line.stream === "stdout" ? line.text : `[${line.stream}] ${line.text}`));
      await onProgress({ progress: nextSeq, message: `${task.value.status} · ${newest.join("\n")}` });
      reported = nextSeq;
    } else if (reported < 0) {
      await onProgress({ progress: 0, message: `${task.value.status} at tier ${task.value.tier}` });
      reported = 0;
    }
    if (FINISHED_TASK_STATUSES.includes(task.value.status) || task.value.status === "awaiting_human") {
      // Lines may still be arriving for a finished task: fetch them once more next round only if any were new.
      return task;
    }
    if (Date.now() >= deadline || signal.aborted) return task;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}
