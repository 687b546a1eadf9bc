// `apply` on a repo task (docs/delivery.md): the result merged into the base branch on the remote,
// never on a person's disk. The branch's tip is fetched into the agent's git directory under a ref
// of the call's own (so two applies at once never share FETCH_HEAD), fast-forwarded when possible,
// else merged in a temporary worktree; then pushed. A conflict or a refusal changes nothing remote.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApplyOutcome, Result } from "../../protocol/index.ts";
import { defaultBranchOf, git, redactUrl, rejectedRefs, remoteWords } from "./remote-git.ts";

/** Who merges for the mesh; the user's git config is neither needed nor changed. */
const MESH_IDENTITY = [
  "-c",
  "user.name=agent-mesh",
  "-c",
  "user.email=apply@agent-mesh.local",
  "-c",
  "commit.gpgsign=false",
];

export type RemoteApply = {
  /** The agent's git directory that holds `commit` (its mirror of the repository). */
  source: string;
  url: string;
  commit: string;
  /** The attempt's branch, for the merge commit's message. */
  branch: string;
  /** The branch to merge into; absent: the remote's default branch. */
  baseRef?: string;
};

type Refusal = Extract<ApplyOutcome, { ok: false }>;
const refusal = (code: Refusal["code"], message: string, files: string[] = []): Refusal => ({
  ok: false,
  code,
  message,
  files,
});

/**
 * Merges `commit` into `baseRef` on the remote: fast-forward, else a merge commit; `push_refused` or `apply_conflict`
 * change nothing.
 */
export async function applyToRemote(request: RemoteApply): Promise<ApplyOutcome> {
  const where = redactUrl(request.url);
  const base = request.baseRef ?? (await defaultBranchOf(request.source, request.url));
  if (base === undefined)
    return refusal(
      "repo_unavailable",
      `could not read the default branch of ${where}; check that this agent can reach it, or give the task a base_ref`,
    );
  const scratch = `refs/agent-mesh/apply/${randomUUID()}`;
  try {
    const fetched = await git(request.source, [
      "fetch",
      "--no-tags",
      "-q",
      request.url,
      `+refs/heads/${base}:${scratch}`,
    ]);
    if (fetched.code !== 0) {
      const absent =
        (await git(request.source, ["ls-remote", "--exit-code", request.url, `refs/heads/${base}`])).code === 2;
      if (absent)
        return refusal(
          "wrong_branch",
          `${base} is not a branch of ${where} (a tag or a commit cannot be merged into); merge ${request.branch} by hand, or name a branch as the task's base_ref`,
        );
      return refusal("repo_unavailable", `could not fetch ${base} from ${where}: ${remoteWords(fetched)}`);
    }
    const tip = (await git(request.source, ["rev-parse", scratch])).stdout.trim();
    if ((await git(request.source, ["merge-base", "--is-ancestor", request.commit, tip])).code === 0)
      return { ok: true, commit: tip, fast_forward: false, already_applied: true };
    const fastForward = (await git(request.source, ["merge-base", "--is-ancestor", tip, request.commit])).code === 0;
    const merged: Result<string, Refusal> = fastForward
      ? { ok: true, value: request.commit }
      : await mergeCommit(request, tip, base);
    if (!merged.ok) return merged.error;
    // The lease: the push lands only if the remote's base is still the tip merged into.
    const pushed = await git(request.source, [
      "push",
      "--porcelain",
      `--force-with-lease=refs/heads/${base}:${tip}`,
      request.url,
      `${merged.value}:refs/heads/${base}`,
    ]);
    if (pushed.code === 0) return { ok: true, commit: merged.value, fast_forward: fastForward, already_applied: false };
    if (rejectedRefs(pushed.stdout).length > 0)
      return refusal(
        "push_refused",
        `${where} refused the push to ${base}: ${remoteWords(pushed)}. Nothing was changed there; merge ${request.branch} by hand (or through a pull request) where the remote allows it`,
      );
    return refusal("repo_unavailable", `could not push ${base} to ${where}: ${remoteWords(pushed)}`);
  } finally {
    await git(request.source, ["update-ref", "-d", scratch]);
  }
}

/** The merge commit of `tip` and the result, made in a temporary worktree of the agent's git directory. */
async function mergeCommit(request: RemoteApply, tip: string, base: string): Promise<Result<string, Refusal>> {
  const dir = await mkdtemp(join(tmpdir(), "agent-mesh-apply-"));
  const worktree = join(dir, "merge");
  try {
    const added = await git(request.source, ["worktree", "add", "-q", "--detach", worktree, tip]);
    if (added.code !== 0)
      return {
        ok: false,
        error: refusal("internal", `could not make a worktree to merge in: ${added.stderr.trim().slice(0, 500)}`),
      };
    const merged = await git(worktree, [
      ...MESH_IDENTITY,
      "merge",
      "--no-ff",
      "--no-edit",
      "-q",
      "-m",
      `agent-mesh: merge ${request.branch} into ${base}`,
      request.commit,
    ]);
    if (merged.code === 0) return { ok: true, value: (await git(worktree, ["rev-parse", "HEAD"])).stdout.trim() };
    const conflicts = (await git(worktree, ["diff", "--name-only", "--diff-filter=U"])).stdout
      .split("\n")
      .filter((name) => name.length > 0);
    return {
      ok: false,
      error: refusal(
        "apply_conflict",
        `${request.branch} does not merge cleanly into ${base} of ${redactUrl(request.url)} (conflicts in ${conflicts.join(", ") || "the merge"}); nothing was changed: merge it by hand, or run the task again from the new ${base}`,
        conflicts.slice(0, 1000),
      ),
    };
  } finally {
    await git(request.source, ["worktree", "remove", "--force", worktree]);
    await rm(dir, { recursive: true, force: true });
    await git(request.source, ["worktree", "prune"]);
  }
}
