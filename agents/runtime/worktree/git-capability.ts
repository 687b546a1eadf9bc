// What this machine's git can do, for the agent's hello (issue 12, point 8: capabilities, not
// versions; INTERFACES.md "Work isolation and results"). A task that needs a worktree is never
// dispatched to an agent whose git cannot make and remove one.
import type { AgentCapabilities } from "../../../protocol/index.ts";
import { GIT_NOT_STARTED, runGit } from "./git-command.ts";

/** `git worktree remove` arrived in git 2.17; an older git could make worktrees but never clean them up. */
const MIN_WORKTREE_VERSION = { major: 2, minor: 17 } as const;

/** Whether git can make worktrees here, and the version string it reported (absent when git is missing). */
export async function gitCapability(): Promise<AgentCapabilities> {
  const version = await runGit(process.cwd(), ["--version"], { readOnly: true });
  if (version.code === GIT_NOT_STARTED || version.code !== 0) return { worktree: false };
  const text = version.stdout.trim().replace(/^git version\s+/, "").slice(0, 100);
  return { worktree: supportsWorktrees(text), git_version: text };
}

/** True from git 2.17 on ("2.39.5", "2.17.0.windows.1", "2.50.1 (Apple Git-155)"). */
export function supportsWorktrees(version: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (match === null) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > MIN_WORKTREE_VERSION.major || (major === MIN_WORKTREE_VERSION.major && minor >= MIN_WORKTREE_VERSION.minor);
}
