// Delivery of a repo task's result (docs/delivery.md): the attempt's commit pushed from the agent's
// own git directory to the task's repository as a branch, then, for `pr`, a draft pull request
// through the agent's `gh`. Credentials are the agent's own; nothing here changes the local branch,
// so a refused push leaves the result exactly where it was.
import type { BranchDeliver, DeliveryOutcome, Result } from "../../protocol/index.ts";
import { openPullRequest } from "./pull-request.ts";
import { defaultBranchOf, git, redactUrl, rejectedRefs, remoteWords } from "./remote-git.ts";

export type PushRefusal = { code: "push_refused" | "repo_unavailable" | "internal"; message: string };

/**
 * Pushes `commit` from the git directory `source` (a bare mirror, a repository or a worktree) to
 * `url` as `refs/heads/<branch>`. The remote's refusal (a hook, a protected branch, a branch that
 * moved elsewhere) is `push_refused` with its own words; an unreachable or unreadable remote is
 * `repo_unavailable`. Pushing the same commit again is a no-op that succeeds.
 */
export async function pushCommit(request: {
  source: string;
  url: string;
  commit: string;
  branch: string;
}): Promise<Result<{ branch: string; commit: string }, PushRefusal>> {
  const { source, url, commit, branch } = request;
  const where = redactUrl(url);
  const known = await git(source, ["rev-parse", "--verify", "-q", `${commit}^{commit}`]);
  if (known.code !== 0)
    return {
      ok: false,
      error: {
        code: "internal",
        message: `commit ${commit.slice(0, 12)} is not in ${source} on this agent (its worktrees or mirror were removed); run the task again to deliver it`,
      },
    };
  const pushed = await git(source, ["push", "--porcelain", url, `${known.stdout.trim()}:refs/heads/${branch}`]);
  if (pushed.code === 0) return { ok: true, value: { branch, commit: known.stdout.trim() } };
  const rejected = rejectedRefs(pushed.stdout);
  const said = remoteWords(pushed);
  if (rejected.length > 0) {
    return {
      ok: false,
      error: {
        code: "push_refused",
        message: `${where} refused the push of ${branch}: ${said}. The result stays on this agent's branch ${branch}; push it by hand once the remote allows it (a protected branch or hook), or deliver under another task name (a branch of that name already exists there)`,
      },
    };
  }
  return {
    ok: false,
    error: {
      code: "repo_unavailable",
      message: `could not push ${branch} to ${where}: ${said}. Check the URL and that this agent's git can write there (its credential helper, SSH agent or token)`,
    },
  };
}

/**
 * The whole delivery: the push, then for `pr` the draft pull request. A failed pull request keeps
 * the pushed branch in the outcome, so the task shows where the work is.
 */
export async function deliverBranch(request: Omit<BranchDeliver, "type" | "request_id">): Promise<DeliveryOutcome> {
  const pushed = await pushCommit({
    source: request.source,
    url: request.repo,
    commit: request.commit,
    branch: request.remote_branch,
  });
  if (!pushed.ok) return { ok: false, code: pushed.error.code, message: pushed.error.message };
  const done = { remote_branch: pushed.value.branch, pushed_commit: pushed.value.commit };
  if (request.mode === "push") return { ok: true, ...done };
  if (request.pull_request === undefined)
    return { ok: false, code: "internal", message: "a pull request was asked without its title and body", ...done };
  const base = request.base_ref ?? (await defaultBranchOf(request.source, request.repo));
  if (base === undefined)
    return {
      ok: false,
      code: "pr_failed",
      message: `pushed ${done.remote_branch}, but the default branch of ${redactUrl(request.repo)} could not be read to open the pull request against; open it by hand or give the task a base_ref`,
      ...done,
    };
  const opened = await openPullRequest({
    url: request.repo,
    cwd: request.source,
    head: done.remote_branch,
    base,
    title: request.pull_request.title,
    body: request.pull_request.body,
  });
  if (!opened.ok)
    return {
      ok: false,
      code: "pr_failed",
      message: `pushed ${done.remote_branch}, but no pull request was opened: ${opened.error}`,
      ...done,
    };
  return { ok: true, ...done, pr_url: opened.value };
}
