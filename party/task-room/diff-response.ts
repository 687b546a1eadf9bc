import type { TaskRecord } from "../../protocol/index.ts";
import { errorResponse } from "../http/responses.ts";
import type { DiffStore } from "./diff-store.ts";

/** The patch of an attempt (default: the task's result), as `git diff --binary` wrote it: applicable at its base. */
export async function diffResponse(task: TaskRecord, attemptParam: string | null, diffs: DiffStore | null): Promise<Response> {
  const n = attemptParam === null ? task.result?.attempt : Number(attemptParam);
  if (n === undefined) return errorResponse("conflict", `task ${task.task_id} is ${task.status} and has no result yet; name an attempt with ?attempt=N`);
  const attempt = Number.isInteger(n) ? task.attempts.find((a) => a.n === n) : undefined;
  if (attempt === undefined) return errorResponse(attemptParam === null ? "not_found" : "bad_request", `attempt: task ${task.task_id} has no attempt ${attemptParam ?? n}`);
  if (attempt.isolation !== "worktree") return errorResponse("conflict", `attempt ${n} ${attempt.isolation === "none" ? "ran in place (not in a git repository): it has no diff" : `is ${attempt.status} and has no diff yet`}`);
  const diff = (await diffs?.read(n)) ?? "";
  return new Response(diff, { status: 200, headers: { "content-type": "text/x-diff; charset=utf-8", ...(attempt.diff_truncated ? { "x-mesh-diff-truncated": "true" } : {}) } });
}
