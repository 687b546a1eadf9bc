// The attempt's result as a commit (issue 12, point 2; INTERFACES.md "Work isolation and results"):
// everything it changed (tracked, new, deleted; ignored files stay out) in one commit on its branch,
// author and committer `agent-mesh <tier>`; then its stat, its diff from base and the changed files.
// Nothing changed: no commit. The CLI may have committed by itself: the result is then the branch's
// HEAD after its leftovers are committed, and the diff still runs from base.
import { posix, relative, sep } from "node:path";
import type { DiffStat, Result } from "../../../protocol/index.ts";
import { MAX_DIFF_BYTES } from "../../../protocol/index.ts";
import { MAX_CHANGED_FILES } from "../work-tree-changes.ts";
import { changeSummary, diffOf } from "./attempt-diff.ts";
import { gitComplaint, meshIdentity, runGit } from "./git-command.ts";
import type { WorktreeWorkspace } from "./prepare-workspace.ts";

export type WorkResult = {
  /** The attempt's final commit; absent when nothing changed (no empty commit is made). */
  commit?: string;
  diffStat: DiffStat;
  /** Unified diff base → commit, as `git diff --binary` writes it; cut at a file boundary past the cap. */
  diff: string;
  diffTruncated: boolean;
  /** Changed paths relative to the attempt's cwd (`../x` outside it), sorted, at most 1000. */
  changedFiles: string[];
};

export type FinishOptions = {
  tier: string;
  /** The most diff kept, in bytes. Default 4 MiB (MAX_DIFF_BYTES). */
  maxDiffBytes?: number;
};

const NOTHING_CHANGED: WorkResult = { diffStat: { files: 0, insertions: 0, deletions: 0 }, diff: "", diffTruncated: false, changedFiles: [] };

/** Commits what the attempt left in its worktree and reports its work. */
export async function finishWorkspace(workspace: WorktreeWorkspace, options: FinishOptions): Promise<Result<WorkResult, string>> {
  const { worktree, base, branch } = workspace;
  // -A stages tracked, new and deleted files in the whole worktree; ignored files stay out.
  const added = await runGit(worktree, ["add", "-A"]);
  if (added.code !== 0) return { ok: false, error: `git could not stage the attempt's changes in ${worktree}: ${gitComplaint(added)}` };
  // Exit 1: something is staged.
  const staged = await runGit(worktree, ["diff", "--cached", "--quiet"], { readOnly: true });
  if (staged.code !== 0 && staged.code !== 1) return { ok: false, error: `git could not read the staged changes in ${worktree}: ${gitComplaint(staged)}` };
  if (staged.code === 1) {
    const committed = await runGit(
      worktree,
      ["-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", `agent-mesh ${options.tier}: ${branch}`],
      { env: meshIdentity(options.tier) },
    );
    if (committed.code !== 0) return { ok: false, error: `git could not commit the attempt's changes in ${worktree}: ${gitComplaint(committed)}` };
  }
  // HEAD and the branch in one call: the CLI may have switched branches or detached HEAD.
  const tips = await runGit(worktree, ["rev-parse", "HEAD", `refs/heads/${branch}`], { readOnly: true });
  // A missing branch fails the call after HEAD's sha is printed (and echoes the name): only a sha counts.
  const [head = "", branchTip = ""] = tips.stdout.split("\n").map((line) => (/^[0-9a-f]{40,64}$/.test(line) ? line : ""));
  if (head === "") return { ok: false, error: `git could not read the attempt's HEAD in ${worktree}: ${gitComplaint(tips)}` };
  if (branchTip !== head) {
    // The branch must hold the result, whatever the CLI did with HEAD.
    const moved = await runGit(worktree, ["update-ref", `refs/heads/${branch}`, head]);
    if (moved.code !== 0) return { ok: false, error: `git could not point ${branch} at the attempt's commit ${head}: ${gitComplaint(moved)}` };
  }
  if (head === base) return { ok: true, value: NOTHING_CHANGED };

  const [summary, diff] = await Promise.all([changeSummary(worktree, base, head), diffOf(worktree, base, head, options.maxDiffBytes ?? MAX_DIFF_BYTES)]);
  if (!summary.ok) return summary;
  if (!diff.ok) return diff;
  // A CLI that committed and then reverted its work leaves a commit with no change: report it, with files 0.
  const cwdPrefix = relative(worktree, workspace.cwd).split(sep).join("/");
  const changedFiles = [...new Set(summary.value.paths)]
    .map((path) => posix.relative(cwdPrefix, path))
    .sort()
    .slice(0, MAX_CHANGED_FILES);
  return { ok: true, value: { commit: head, diffStat: summary.value.diffStat, diff: diff.value.diff, diffTruncated: diff.value.diffTruncated, changedFiles } };
}
