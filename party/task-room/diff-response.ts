import { FINISHED_TASK_STATUSES, type TaskRecord } from "../../protocol/index.ts";
import { errorResponse } from "../http/responses.ts";
import type { DiffStore } from "./diff-store.ts";

/** The patch of an attempt (default: the task's result), as `git diff --binary` wrote it: applicable at its base. */
export async function diffResponse(
  task: TaskRecord,
  attemptParam: string | null,
  diffs: DiffStore | null,
): Promise<Response> {
  const n = attemptParam === null ? task.result?.attempt : Number(attemptParam);
  if (n === undefined) return errorResponse("conflict", noResultMessage(task));
  const attempt = Number.isInteger(n) ? task.attempts.find((a) => a.n === n) : undefined;
  if (attempt === undefined)
    return errorResponse(
      attemptParam === null ? "not_found" : "bad_request",
      `attempt: task ${task.task_id} has no attempt ${attemptParam ?? n}`,
    );
  if (attempt.isolation !== "worktree")
    return errorResponse(
      "conflict",
      `attempt ${n} ${attempt.isolation === "none" ? "ran in place (not in a git repository): it has no diff" : `is ${attempt.status} and has no diff yet`}`,
    );
  const diff = (await diffs?.read(n)) ?? { ok: true, value: "" };
  if (!diff.ok) return errorResponse("internal", `attempt ${n}'s stored diff is unreadable: ${diff.error.message}`);
  return new Response(diff.value, {
    status: 200,
    headers: {
      "content-type": "text/x-diff; charset=utf-8",
      ...(attempt.diff_truncated ? { "x-mesh-diff-truncated": "true" } : {}),
    },
  });
}

/**
 * Why a task has no result to diff, in words that fit its state: an ended task (cancelled, failed…)
 * never will have one, so "yet" would mislead; the attempts that have a diff of their own are named.
 */
function noResultMessage(task: TaskRecord): string {
  const withDiff = task.attempts
    .filter((a) => a.isolation === "worktree" && a.diff_stat !== undefined)
    .map((a) => `?attempt=${a.n}`);
  const attempts =
    withDiff.length > 0
      ? `; its attempts' own diffs: ${withDiff.join(", ")}`
      : task.attempts.length === 0
        ? "; no attempt of it ran"
        : "; none of its attempts has a diff";
  const ended =
    task.status === "cancelled"
      ? "was cancelled before it had a result"
      : task.status === "failed"
        ? "failed: no attempt of it was accepted"
        : `ended ${task.status} without a result`;
  return FINISHED_TASK_STATUSES.includes(task.status)
    ? `task ${task.task_id} ${ended}, so it has no diff${attempts}`
    : `task ${task.task_id} is ${task.status} and has no result yet${withDiff.length > 0 ? `; ended attempts' own diffs: ${withDiff.join(", ")}` : ""}`;
}
