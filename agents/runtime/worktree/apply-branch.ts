// `apply` (issue 12, point 7; INTERFACES.md "Work isolation and results"): merges an attempt's branch
// into the user's checkout, which must still be on the branch it had at the base: a fast-forward when
// possible, else a merge commit by agent-mesh. Every refusal changes nothing: a dirty checkout or a
// moved one is refused before git touches it, and a conflicting merge is aborted.
import type { Result } from "../../../protocol/index.ts";
import { gitComplaint, meshIdentity, runGit } from "./git-command.ts";

export type ApplyRequest = {
  /** The top folder of the user's checkout. */
  repo: string;
  /** The attempt's branch. */
  branch: string;
  /** The branch the checkout was on when the task started; absent when it was a detached HEAD (then HEAD is merged into as it is). */
  targetBranch?: string;
  /** The task's base commit. */
  base: string;
};

export type BranchApplied = {
  /** The checkout's HEAD after the merge. */
  commit: string;
  fastForward: boolean;
  /** The branch's commit was already in the checkout: nothing was done. */
  alreadyApplied: boolean;
};

export type ApplyRefusal = {
  code: "checkout_dirty" | "apply_conflict" | "wrong_branch";
  /** One sentence saying what is wrong and what to do. */
  message: string;
  /** The dirty (up to 20) or conflicting files, relative to the repository's top. */
  files: string[];
};

/** Most dirty files named in a `checkout_dirty` refusal. */
const MAX_DIRTY_NAMED = 20;

export async function applyBranch(request: ApplyRequest): Promise<Result<BranchApplied, ApplyRefusal>> {
  const { repo, branch, targetBranch } = request;
  const refuse = (code: ApplyRefusal["code"], message: string, files: string[] = []): Result<BranchApplied, ApplyRefusal> => ({ ok: false, error: { code, message, files } });
  const [current, status, tips] = await Promise.all([
    runGit(repo, ["symbolic-ref", "--short", "-q", "HEAD"], { readOnly: true }),
    // Untracked files count as dirty (a merge could overwrite them); ignored ones do not.
    runGit(repo, ["status", "--porcelain=v1", "-z"], { readOnly: true }),
    runGit(repo, ["rev-parse", "--verify", "-q", `refs/heads/${branch}^{commit}`], { readOnly: true }),
  ]);
  const onBranch = current.code === 0 ? current.stdout.trim() : "";
  if (targetBranch !== undefined && onBranch !== targetBranch) {
    return refuse("wrong_branch", `the checkout in ${repo} is on ${onBranch === "" ? "a detached HEAD" : `branch ${onBranch}`}, not on ${targetBranch} where the task started; check out ${targetBranch} and apply again`);
  }
  if (status.code !== 0) return refuse("checkout_dirty", `git could not read the state of the checkout in ${repo}: ${gitComplaint(status)}`);
  const dirty = dirtyPaths(status.stdout);
  if (dirty.length > 0) {
    const named = dirty.slice(0, MAX_DIRTY_NAMED);
    const more = dirty.length > named.length ? ` and ${dirty.length - named.length} more` : "";
    return refuse("checkout_dirty", `the checkout in ${repo} has uncommitted changes (${named.join(", ")}${more}); commit or stash them, then apply again`, named);
  }
  const tip = tips.stdout.trim();
  if (tips.code !== 0 || tip === "") return refuse("apply_conflict", `the branch ${branch} is not in ${repo}; there is nothing to apply`);
  const into = onBranch === "" ? "the checkout's HEAD" : onBranch;

  // Exit 0: the branch's commit is already in HEAD's history.
  if ((await runGit(repo, ["merge-base", "--is-ancestor", tip, "HEAD"], { readOnly: true })).code === 0) {
    const head = await runGit(repo, ["rev-parse", "HEAD"], { readOnly: true });
    return { ok: true, value: { commit: head.stdout.trim(), fastForward: false, alreadyApplied: true } };
  }
  if ((await runGit(repo, ["merge", "-q", "--ff-only", tip])).code === 0) return { ok: true, value: { commit: tip, fastForward: true, alreadyApplied: false } };

  const message = `agent-mesh: merge ${branch} (from base ${request.base.slice(0, 12)})`;
  const merged = await runGit(repo, ["-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "--no-edit", "-m", message, tip], { env: meshIdentity("apply") });
  if (merged.code === 0) {
    const head = await runGit(repo, ["rev-parse", "HEAD"], { readOnly: true });
    return { ok: true, value: { commit: head.stdout.trim(), fastForward: false, alreadyApplied: false } };
  }
  const unmerged = await runGit(repo, ["diff", "--name-only", "-z", "--diff-filter=U"], { readOnly: true });
  const conflicts = unmerged.stdout.split("\0").filter((path) => path !== "");
  // Puts the checkout back exactly as it was (a merge that failed before starting has nothing to abort).
  await runGit(repo, ["merge", "--abort"]);
  const what = conflicts.length > 0 ? `conflicts in ${conflicts.join(", ")}` : gitComplaint(merged);
  return refuse("apply_conflict", `${branch} does not merge cleanly into ${into} (${what}); nothing was changed: merge it by hand (git merge ${branch}) or run the task again from the new HEAD`, conflicts);
}

/** Paths from `git status --porcelain=v1 -z` (`XY path`, a rename followed by its source). */
function dirtyPaths(porcelain: string): string[] {
  const paths: string[] = [];
  const fields = porcelain.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? "";
    if (field.length < 4) continue;
    paths.push(field.slice(3));
    if (field[0] === "R" || field[0] === "C") i++;
  }
  return paths;
}
