// Why a repository gave no mirror (docs/repositories.md): a remote unreachable, unknown or refusing the
// agent's credentials (`repo_unavailable`), a mirror damaged (moved aside and cloned again), or a
// mirrors directory full or not writable (`disk_full`), each said with what to do.
import { redactRepoUrl } from "../../protocol/index.ts";
import { gitSaid } from "./mirror-git.ts";
import { diskFaultInGitOutput } from "./worktree-dir-health.ts";

/** What git prints when the mirror's own objects or refs are broken (not the remote's fault). */
export const CORRUPTION =
  /corrupt|bad object|missing (blob|tree|commit|object)|unable to read|loose object|not a git repository|did not send all necessary objects|packfile .* cannot be accessed|failed to read object/i;

/**
 * Why a repository gave no mirror or no base: unreachable or unknown (`repo_unavailable`), or no room (`disk_full`).
 */
export type MirrorFault = { failure_class: "repo_unavailable" | "disk_full"; message: string };

/** A failed clone or fetch of `url` into the mirror `dir`, from git's words. */
export function mirrorFailure(
  mirrorsDir: string,
  what: "clone" | "fetch",
  url: string,
  dir: string,
  stderr: string,
): MirrorFault {
  const disk = diskFaultInGitOutput(stderr);
  if (disk !== undefined) return dirFault(mirrorsDir, disk.code, disk.line);
  const said = gitSaid(stderr).split(url).join(redactRepoUrl(url));
  if (what === "fetch" && CORRUPTION.test(said)) return { failure_class: "repo_unavailable", message: said };
  return {
    failure_class: "repo_unavailable",
    message: `could not ${what} ${redactRepoUrl(url)} (git: ${said}). Check the URL, that this agent can reach the host, and that the agent's own git credentials (credential helper, SSH agent, gh auth login) can read it: git ls-remote ${redactRepoUrl(url)} as the agent's user shows what git sees (mirror: ${dir})`,
  };
}

/** The mirrors directory itself at fault (an errno from making a folder or from git's output). */
export function dirFault(mirrorsDir: string, code: string, detail: string): MirrorFault {
  const what =
    code === "ENOSPC" || code === "EDQUOT"
      ? "is full"
      : code === "EROFS" || code === "EACCES" || code === "EPERM"
        ? "is not writable"
        : "cannot be used";
  return {
    failure_class: "disk_full",
    message: `the agent's mirrors directory ${mirrorsDir} ${what} (${detail}); free space there, or give the agent another --state-dir`,
  };
}
