import { type Result, type TaskDependency, TaskRecord } from "../../protocol/index.ts";
import { newsOf } from "./task-events.ts";

/**
 * The prerequisites' answers to `task.watch` (each the task as it is now), as news for the waiting
 * task: one that does not exist counts as failed; one that could not be asked is a problem to log
 * (the waiting task asks again after its next restart).
 */
export function prerequisiteNews(
  ids: readonly string[],
  answers: readonly Result<unknown>[],
): { news: TaskDependency[]; problems: string[] } {
  const news: TaskDependency[] = [];
  const problems: string[] = [];
  for (const [i, answer] of answers.entries()) {
    const id = ids[i] ?? "";
    const task = answer.ok ? TaskRecord.safeParse(answer.value) : null;
    if (task?.success) news.push(newsOf(task.data));
    else if (!answer.ok && answer.error.code === "not_found")
      news.push({
        type: "task.dependency",
        task_id: id,
        status: "failed",
        error: { code: "not_found", message: `no task ${id}` },
      });
    else
      problems.push(
        `could not ask task ${id} to tell its end: ${answer.ok ? "its answer was not a task" : answer.error.message}`,
      );
  }
  return { news, problems };
}
