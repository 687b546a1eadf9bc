// `apply` on a task run in a person's checkout (docs/work-isolation.md): the attempt's branch merged into
// that checkout, a fast-forward when possible, else a merge commit; refused, changing nothing, when the
// checkout moved to another branch, has uncommitted changes, or the merge conflicts. A repo task's apply
// happens on the remote instead (remote-apply.ts).
import type { Result } from "../../protocol/index.ts";
import { git, meshIdentity } from "./local-git.ts";

export type ApplyRefusal = {
  code: "checkout_dirty" | "apply_conflict" | "wrong_branch";
  message: string;
  files: string[];
};

/**
 * Merges an attempt's branch into the user's checkout, which must still be on the branch it had at
 * the base: a fast-forward when possible, else a merge commit. Refuses, changing nothing, when the
 * checkout has uncommitted changes or the merge conflicts (the merge is aborted).
 */
export async function applyBranch(request: {
  repo: string;
  branch: string;
  targetBranch?: string;
  base: string;
}): Promise<Result<{ commit: string; fastForward: boolean; alreadyApplied: boolean }, ApplyRefusal>> {
  const { repo, branch } = request;
  const current = (await git(repo, ["symbolic-ref", "--short", "-q", "HEAD"])).stdout.trim();
  if (request.targetBranch !== undefined && current !== request.targetBranch) {
    return {
      ok: false,
      error: {
        code: "wrong_branch",
        message: `the checkout in ${repo} is on ${current || "a detached HEAD"}, not on ${request.targetBranch} where the task started; check out ${request.targetBranch} and apply again`,
        files: [],
      },
    };
  }
  const status = await git(repo, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  const dirty = status.stdout
    .split("\0")
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
  if (dirty.length > 0) {
    return {
      ok: false,
      error: {
        code: "checkout_dirty",
        message: `the checkout in ${repo} has uncommitted changes (${dirty.slice(0, 20).join(", ")}${dirty.length > 20 ? ", …" : ""}); commit or stash them, then apply again`,
        files: dirty.slice(0, 20),
      },
    };
  }
  const tip = (await git(repo, ["rev-parse", "--verify", "-q", `${branch}^{commit}`])).stdout.trim();
  if (tip === "")
    return {
      ok: false,
      error: {
        code: "apply_conflict",
        message: `the branch ${branch} is gone from ${repo}; nothing to apply`,
        files: [],
      },
    };
  const head = async (): Promise<string> => (await git(repo, ["rev-parse", "HEAD"])).stdout.trim();
  if ((await git(repo, ["merge-base", "--is-ancestor", tip, "HEAD"])).code === 0)
    return { ok: true, value: { commit: await head(), fastForward: false, alreadyApplied: true } };
  if ((await git(repo, ["merge", "--ff-only", "-q", tip])).code === 0)
    return { ok: true, value: { commit: await head(), fastForward: true, alreadyApplied: false } };
  const merged = await git(repo, [
    ...meshIdentity("apply"),
    "merge",
    "--no-ff",
    "--no-edit",
    "-q",
    "-m",
    `agent-mesh: merge ${branch}`,
    tip,
  ]);
  if (merged.code === 0)
    return { ok: true, value: { commit: await head(), fastForward: false, alreadyApplied: false } };
  const conflicts = (await git(repo, ["diff", "--name-only", "--diff-filter=U"])).stdout
    .split("\n")
    .filter((name) => name.length > 0);
  await git(repo, ["merge", "--abort"]);
  return {
    ok: false,
    error: {
      code: "apply_conflict",
      message: `${branch} does not merge cleanly into ${current || "the checkout"} (conflicts in ${conflicts.join(", ") || "the merge"}); nothing was changed: resolve by hand (git merge ${branch}) or retry the task from the new HEAD`,
      files: conflicts,
    },
  };
}
