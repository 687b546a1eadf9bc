// The git worktree engine (issue 12; INTERFACES.md "Work isolation and results"): every attempt
// whose cwd is in a git repository runs in a worktree of its own, on branch
// `mesh/<task name or id>/<n>-<tier>`, from the task's base commit; its work becomes one commit and a
// diff; `apply` merges the branch into the user's checkout, which nothing else touches.
//
//   prepare-workspace.ts        the attempt's worktree (or in place, and why)
//   finish-workspace.ts         its commit, stat, diff and changed files
//   attempt-diff.ts             diffs capped at a file boundary; numstat
//   apply-branch.ts             merging into the user's checkout, or a refusal that changed nothing
//   worktree-removal.ts         removing worktrees (one, or every ended task's after a restart); disk use
//   git-capability.ts           whether git can make worktrees here, for the hello
//   branch-and-folder-names.ts  branch names and worktree folders
//   git-command.ts              how git is run (no shell, a timeout, no prompts, no hooks)
export { applyBranch, type BranchApplied, type ApplyRefusal, type ApplyRequest } from "./apply-branch.ts";
export { cutAtFileBoundary, diffOf, type CappedDiff } from "./attempt-diff.ts";
export { attemptBranch, attemptWorktreeFolder, refComponent } from "./branch-and-folder-names.ts";
export { finishWorkspace, type FinishOptions, type WorkResult } from "./finish-workspace.ts";
export { gitCapability } from "./git-capability.ts";
export { prepareWorkspace, type InPlaceWorkspace, type Workspace, type WorkspaceRequest, type WorktreeWorkspace } from "./prepare-workspace.ts";
export { cleanupWorktrees, removeWorkspace, worktreesDiskBytes, type CleanupReport } from "./worktree-removal.ts";
