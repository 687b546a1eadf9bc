// The registry's requests about a repo task's remote (docs/delivery.md): deliver a result (push, or
// push and a draft pull request) and `apply` it into the remote's base branch. Each answers with an
// outcome, never a throw, and logs what it did with the URL's credentials removed.
import type { ApplyOutcome, BranchDeliver, DeliveryOutcome, TaskApply } from "../../protocol/index.ts";
import type { AgentLog } from "./agent-log.ts";
import { deliverBranch } from "./branch-delivery.ts";
import { applyToRemote } from "./remote-apply.ts";
import { redactUrl } from "./remote-git.ts";

export async function answerDelivery(request: BranchDeliver, log: AgentLog): Promise<DeliveryOutcome> {
  const { type: _type, request_id: _id, ...fields } = request;
  const what = `task ${request.task_id} attempt ${request.attempt}`;
  log(
    `${what}: pushing ${request.commit.slice(0, 12)} to ${redactUrl(request.repo)} as ${request.remote_branch}${request.mode === "pr" ? ", then a draft pull request" : ""}`,
  );
  const outcome = await deliverBranch(fields).catch(
    (error: unknown): DeliveryOutcome => ({
      ok: false,
      code: "internal",
      message: `the delivery failed: ${String(error)}`,
    }),
  );
  log(
    `${what}: ${outcome.ok ? `delivered ${outcome.remote_branch}${outcome.pr_url === undefined ? "" : ` (${outcome.pr_url})`}` : `not delivered (${outcome.code}): ${outcome.message}`}`,
  );
  return outcome;
}

/** `apply` of a repo task: `merge.repo` is the agent's mirror, `merge.remote` the repository's URL. */
export async function answerRemoteApply(merge: TaskApply & { remote: string }, log: AgentLog): Promise<ApplyOutcome> {
  const what = `task ${merge.task_id} attempt ${merge.attempt}`;
  log(
    `${what}: merging ${merge.branch} into ${merge.target_branch ?? "the default branch"} of ${redactUrl(merge.remote)}`,
  );
  const outcome = await applyToRemote({
    source: merge.repo,
    url: merge.remote,
    commit: merge.commit,
    branch: merge.branch,
    ...(merge.target_branch === undefined ? {} : { baseRef: merge.target_branch }),
  }).catch(
    (error: unknown): ApplyOutcome => ({
      ok: false,
      code: "internal",
      message: `the merge failed: ${String(error)}`,
      files: [],
    }),
  );
  log(
    `${what}: ${outcome.ok ? `merged, the remote's branch at ${outcome.commit.slice(0, 12)}` : `not merged (${outcome.code}): ${outcome.message}`}`,
  );
  return outcome;
}
