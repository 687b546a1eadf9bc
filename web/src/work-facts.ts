// The words the task page uses for an attempt's work and the task's result. Pure, so
// they are unit-tested in test/web; the panels only put them in the DOM.
import {
  type AcceptanceEvidence,
  AnyErrorReply,
  type Attempt,
  type DiffStat,
  parseJson,
  TaskRecord,
} from "../../protocol/index.ts";

/** What the page reads of the task an apply answers with: when and where it was merged. */
const AppliedReply = TaskRecord.pick({ applied: true });

/** A commit sha as people read it: long enough to be unique in any real repository. */
export function shortSha(sha: string): string {
  return sha.slice(0, 12);
}

export function diffStatText(stat: DiffStat, truncated = false): string {
  const files = stat.files === 1 ? "1 file" : `${stat.files} files`;
  const cut = truncated ? " (the stored diff is cut at the size cap; the branch holds all of it)" : "";
  return stat.files === 0 ? "changed nothing" : `${files} +${stat.insertions} -${stat.deletions}${cut}`;
}

/** Where an attempt worked and what it left: its branch, commit and base, or why it has none. */
export function attemptWorkText(attempt: Attempt): string {
  if (attempt.isolation === "none") return "ran in place (its cwd is not in a git repository): no branch, no diff";
  const parts = [`worktree on ${attempt.branch ?? "a branch not reported yet"}`];
  if (attempt.commit !== undefined) parts.push(`commit ${shortSha(attempt.commit)}`);
  if (attempt.base !== undefined) parts.push(`from ${shortSha(attempt.base)}`);
  if (attempt.status === "dispatched" || attempt.status === "running") parts.push("working…");
  else if (attempt.diff_stat !== undefined) parts.push(diffStatText(attempt.diff_stat, attempt.diff_truncated));
  return parts.join(" · ");
}

export function acceptanceText(evidence: AcceptanceEvidence): string {
  const exit =
    evidence.exit_code === null ? "it did not run to an exit (killed or not started)" : `exit ${evidence.exit_code}`;
  return `acceptance ${evidence.passed ? "passed" : "failed"}: ${evidence.command} (${exit})`;
}

/** The task's result, or what it is waiting for. */
export function resultText(task: TaskRecord): string {
  const result = task.result;
  if (result === undefined)
    return task.status === "succeeded"
      ? "no result recorded"
      : `no result yet (the task is ${task.status.replace("_", " ")})`;
  if (result.commit === undefined)
    return `result: attempt ${result.attempt}, which changed nothing or ran in place: nothing to apply`;
  const stat = result.diff_stat === undefined ? "" : ` · ${diffStatText(result.diff_stat)}`;
  return `result: attempt ${result.attempt} on ${result.branch ?? "?"} · commit ${shortSha(result.commit)}${result.base === undefined ? "" : ` from ${shortSha(result.base)}`}${stat}`;
}

export function appliedText(task: TaskRecord): string | null {
  const where = task.repo === undefined ? "the checkout" : "the remote's base branch";
  return task.applied === undefined
    ? null
    : `applied ${new Date(task.applied.at).toLocaleString()}: ${where} is at ${shortSha(task.applied.commit)}`;
}

/**
 * Where a repo task's result went (docs/delivery.md): the pushed branch, the pull request's address
 * (http(s) only, so a link is never a script), or why not; null for a task that delivers nothing.
 */
export function deliveryFacts(task: TaskRecord): { text: string; prUrl?: string } | null {
  if (task.repo === undefined || task.deliver === undefined || task.deliver === "none" || task.status !== "succeeded")
    return null;
  const delivery = task.delivery;
  if (delivery === undefined)
    return {
      text:
        task.result?.commit === undefined
          ? "nothing to deliver: the result changed nothing"
          : `delivering: pushing ${task.result.branch ?? "the result's branch"}${task.deliver === "pr" ? ", then a draft pull request" : ""}…`,
    };
  const pushed =
    delivery.remote_branch === undefined
      ? ""
      : `pushed ${delivery.remote_branch}${delivery.pushed_commit === undefined ? "" : ` (${shortSha(delivery.pushed_commit)})`}`;
  if (delivery.error !== undefined)
    return {
      text: `${pushed === "" ? "" : `${pushed} · `}not delivered (${delivery.error.code}): ${delivery.error.message}`,
    };
  const prUrl = delivery.pr_url !== undefined && /^https?:\/\//.test(delivery.pr_url) ? delivery.pr_url : undefined;
  return { text: pushed, ...(prUrl === undefined ? {} : { prUrl }) };
}

/** Where apply would merge the result: the checkout's folder and branch, or the remote's base branch. */
export function applyTarget(task: TaskRecord): string {
  const attempt = task.attempts.find((candidate) => candidate.n === task.result?.attempt);
  if (task.repo !== undefined)
    return `${task.base_ref ?? attempt?.checkout?.branch ?? "the default branch"} on ${task.repo}`;
  const checkout = attempt?.checkout;
  if (checkout === undefined) return "your checkout";
  return checkout.branch === undefined
    ? `the checkout ${checkout.repo}`
    : `branch ${checkout.branch} of ${checkout.repo}`;
}

/** What the confirmation asks before apply merges anything (docs/page.md "Apply"). */
export function applyQuestion(task: TaskRecord): string {
  const branch = task.result?.branch ?? "the result's branch";
  return `Merge ${branch} into ${applyTarget(task)}? A fast-forward when possible, else a merge commit.`;
}

/** A task applied before: when, and where its checkout is, so a second apply plainly did nothing. */
export function alreadyAppliedText(applied: NonNullable<TaskRecord["applied"]>): string {
  return `already applied ${new Date(applied.at).toLocaleString()} (commit ${shortSha(applied.commit)}): applying again would change nothing`;
}

/** Whether the apply button may be pressed, and if not, why (shown beside it). */
export function applyAvailability(task: TaskRecord): { enabled: boolean; note: string } {
  if (task.applied !== undefined) return { enabled: false, note: alreadyAppliedText(task.applied) };
  if (task.status !== "succeeded")
    return {
      enabled: false,
      note: `apply is possible once the task succeeds (it is ${task.status.replace("_", " ")})`,
    };
  if (task.result?.commit === undefined)
    return { enabled: false, note: "the result has no commit (it changed nothing or ran in place): nothing to apply" };
  if (task.repo !== undefined)
    return {
      enabled: true,
      note: `merges ${task.result.branch ?? "the result's branch"} into the base branch on the remote (the agent pushes it)`,
    };
  return {
    enabled: true,
    note: `merges ${task.result.branch ?? "the result's branch"} into the branch your checkout had at the base`,
  };
}

/**
 * What a refused request means for a person: the mesh's code and message, or the status when the body is not the
 * mesh's.
 */
export function refusalText(status: number, body: string): string {
  const error = errorOf(body);
  if (error !== null) return `${error.code}: ${error.message}`;
  if (status === 401 || status === 403)
    return `the mesh refused this link (${status}): open the page again with a fresh link`;
  return `the mesh answered ${status}${body.trim() === "" ? "" : `: ${body.trim().slice(0, 300)}`}`;
}

/**
 * What a 200 from `POST /api/tasks/<id>/apply` (the task, with `applied`) tells a person. `before`:
 * the task's `applied` as the page knew it when it asked; the same record back means nothing merged.
 */
export function appliedReplyText(body: string, before?: TaskRecord["applied"]): string {
  const how = "the task's log says whether it fast-forwarded or made a merge commit";
  const reply = parseJson(AppliedReply, body);
  const applied = reply.ok ? reply.value.applied : undefined;
  if (applied === undefined) return `Applied; ${how}.`;
  if (before !== undefined && applied.at === before.at)
    return `Nothing changed: ${alreadyAppliedText({ commit: applied.commit, at: before.at })}.`;
  return `Applied: your checkout is at ${shortSha(applied.commit)}; ${how}.`;
}

/** A request that got no answer at all. */
export function unreachableText(error: unknown): string {
  return `the mesh did not answer (${error instanceof Error ? error.message : String(error)}): check that it is still running, then try again`;
}

/** The mesh's `{error: {code, message}}`; any code, so a code newer than this page still reads well. */
function errorOf(body: string): { code: string; message: string } | null {
  const reply = parseJson(AnyErrorReply, body);
  return reply.ok ? reply.value.error : null;
}
