// An attempt's result (docs/work-isolation.md): everything it changed in its worktree as one commit on
// its branch, and the diff from the task's base, cut at a file boundary to the stored cap.
import { posix, relative } from "node:path";
import { type DiffStat, MAX_DIFF_BYTES, type Result } from "../../protocol/index.ts";
import type { WorkFacts } from "./attempt-run-types.ts";
import type { WorktreeWorkspace } from "./attempt-worktree.ts";
import { diffFingerprint } from "./diff-fingerprint.ts";
import { git, meshIdentity } from "./local-git.ts";

export type WorkResult = {
  commit?: string;
  diffStat: DiffStat;
  diff: string;
  diffTruncated: boolean;
  changedFiles: string[];
};

/**
 * Commits everything the attempt changed (tracked, new and deleted files; ignored files stay out) as
 * one commit on its branch, and reads its diff from the base. Nothing changed: no commit.
 */
export async function finishWorkspace(
  workspace: WorktreeWorkspace,
  options: { tier: string; maxDiffBytes?: number },
): Promise<Result<WorkResult, string>> {
  const { worktree, base } = workspace;
  const added = await git(worktree, ["add", "-A"]);
  if (added.code !== 0)
    return { ok: false, error: `git add failed in ${worktree}: ${added.stderr.trim().slice(0, 500)}` };
  if ((await git(worktree, ["diff", "--cached", "--quiet"])).code !== 0) {
    // No auto maintenance after the attempt's commit (a process more per attempt): the mirror's fetch or the user's own
    // git runs it.
    const committed = await git(worktree, [
      ...meshIdentity(options.tier),
      "-c",
      "maintenance.auto=false",
      "commit",
      "-q",
      "--no-verify",
      "-m",
      `agent-mesh: ${workspace.branch}`,
    ]);
    if (committed.code !== 0)
      return { ok: false, error: `git commit failed in ${worktree}: ${committed.stderr.trim().slice(0, 500)}` };
  }
  const head = (await git(worktree, ["rev-parse", "HEAD"])).stdout.trim();
  if (head === base)
    return {
      ok: true,
      value: { diffStat: { files: 0, insertions: 0, deletions: 0 }, diff: "", diffTruncated: false, changedFiles: [] },
    };
  // Plumbing, not `git diff`: diff-tree ignores the user's diff settings (noprefix, external diff,
  // textconv, colour) that would make a patch `git apply` refuses.
  const tree = ["diff-tree", "-r", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames"];
  const [numstat, names, diff] = await Promise.all([
    git(worktree, [...tree, "--numstat", base, head]),
    git(worktree, [...tree, "--name-only", "-z", base, head]),
    git(worktree, [...tree, "-p", "--binary", base, head]),
  ]);
  const rows = numstat.stdout.split("\n").filter((row) => row.length > 0);
  const count = (field: string | undefined): number => (field === undefined || field === "-" ? 0 : Number(field) || 0);
  const diffStat = {
    files: rows.length,
    insertions: rows.reduce((sum, row) => sum + count(row.split("\t")[0]), 0),
    deletions: rows.reduce((sum, row) => sum + count(row.split("\t")[1]), 0),
  };
  const cut = cutAtFileBoundary(diff.stdout, options.maxDiffBytes ?? MAX_DIFF_BYTES);
  const fromCwd = relative(worktree, workspace.cwd).split("\\").join("/");
  const changedFiles = names.stdout
    .split("\0")
    .filter((name) => name.length > 0)
    .map((name) => posix.relative(fromCwd, name))
    .slice(0, 1000);
  return { ok: true, value: { commit: head, diffStat, diff: cut.text, diffTruncated: cut.truncated, changedFiles } };
}

/** The facts of a worktree attempt's exit: its branch, commit and diff's measures, and the checkout it applies to. */
export function workFactsOf(workspace: WorktreeWorkspace, work: WorkResult): WorkFacts {
  return {
    isolation: "worktree",
    branch: workspace.branch,
    base: workspace.base,
    ...(work.commit === undefined ? {} : { commit: work.commit }),
    diff_stat: work.diffStat,
    diff_truncated: work.diffTruncated,
    diff_fingerprint: diffFingerprint(work.diff),
    checkout: {
      repo: workspace.repo,
      ...(workspace.targetBranch === undefined ? {} : { branch: workspace.targetBranch }),
    },
    changed_files: work.changedFiles,
  };
}

/** A diff cut to `maxBytes` at the start of a file's section (`diff --git`), so what is kept still applies. */
export function cutAtFileBoundary(diff: string, maxBytes: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(diff) <= maxBytes) return { text: diff, truncated: false };
  const head = Buffer.from(diff).subarray(0, maxBytes).toString("utf8");
  const at = head.lastIndexOf("\ndiff --git ");
  return { text: at < 0 ? "" : head.slice(0, at + 1), truncated: true };
}
