import { execFileSync } from "node:child_process";
import type { AgentCapabilities } from "../../protocol/index.ts";

/** `git worktree remove` arrived in git 2.17: older gits cannot clean up after an attempt. */
const MIN_WORKTREE_VERSION = [2, 17] as const;

/**
 * What this machine's git can do, for the agent's hello: capabilities, not versions (docs/work-isolation.md).
 * Read once, synchronously, before the first hello; a missing git means no worktrees.
 */
export function gitCapabilities(): AgentCapabilities {
  let text: string;
  try {
    text = execFileSync("git", ["--version"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return { worktree: false };
  }
  const [major = 0, minor = 0] = (text.match(/(\d+)\.(\d+)/)?.slice(1) ?? []).map(Number);
  const [needMajor, needMinor] = MIN_WORKTREE_VERSION;
  return {
    worktree: major > needMajor || (major === needMajor && minor >= needMinor),
    git_version: text.replace(/^git version /, "").slice(0, 100),
  };
}
