// Refs in a repository mirror (docs/repositories.md): a fresh bare clone's branches moved under
// `refs/remotes/origin/` (so a fetch never touches the attempts' own `mesh/…` branches), and the
// commit a task's base_ref names on the remote.
import { type Result, redactRepoUrl } from "../../protocol/index.ts";
import type { MirrorFault } from "./mirror-faults.ts";
import { git, gitWithInput } from "./mirror-git.ts";

/**
 * The mirror an attempt's worktree comes from, the commit it starts at, and the remote branch that is (when it is one).
 */
export type MirrorBase = { gitDir: string; base: string; branch?: string };

/**
 * After `clone --bare`: fetch refspecs for a mirror, the remote's branches as `origin/*`, and `origin/HEAD` as its
 * default branch.
 */
export async function arrangeRefs(gitDir: string): Promise<string | undefined> {
  for (const args of [
    ["config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"],
    ["config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"],
  ]) {
    const set = await git(gitDir, args);
    if (set.code !== 0) return set.stderr;
  }
  const heads = await git(gitDir, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"]);
  const moves = heads.stdout
    .split("\n")
    .filter((line) => line.includes(" refs/heads/"))
    .map((line) => {
      const [sha = "", ref = ""] = line.split(" ");
      return `create refs/remotes/origin/${ref.slice("refs/heads/".length)} ${sha}\ndelete ${ref} ${sha}\n`;
    })
    .join("");
  if (moves !== "") {
    const moved = await gitWithInput(gitDir, ["update-ref", "--stdin"], moves);
    if (moved.code !== 0) return moved.stderr;
  }
  const head = (await git(gitDir, ["symbolic-ref", "-q", "HEAD"])).stdout.trim();
  if (head.startsWith("refs/heads/"))
    await git(gitDir, [
      "symbolic-ref",
      "refs/remotes/origin/HEAD",
      `refs/remotes/origin/${head.slice("refs/heads/".length)}`,
    ]);
  return undefined;
}

/** The commit `baseRef` names on the remote (a branch, a tag, a sha), default the remote's default branch. */
export async function resolveBase(
  gitDir: string,
  url: string,
  baseRef: string | undefined,
): Promise<Result<MirrorBase, MirrorFault>> {
  const shown = redactRepoUrl(url);
  let ref = baseRef;
  if (ref === undefined) {
    const head = (await git(gitDir, ["symbolic-ref", "-q", "refs/remotes/origin/HEAD"])).stdout.trim();
    ref = head.startsWith("refs/remotes/origin/") ? head.slice("refs/remotes/origin/".length) : undefined;
    if (ref === undefined)
      return {
        ok: false,
        error: {
          failure_class: "repo_unavailable",
          message: `${shown} has no default branch (an empty repository?): give base_ref, a branch, tag or commit of it`,
        },
      };
  }
  const branch = ref.replace(/^refs\/heads\//, "");
  const candidates: Array<{ rev: string; branch?: string }> = [
    { rev: `refs/remotes/origin/${branch}`, branch },
    { rev: `refs/tags/${ref.replace(/^refs\/tags\//, "")}` },
  ];
  if (/^[0-9a-f]{7,64}$/i.test(ref)) candidates.push({ rev: ref });
  for (const candidate of candidates) {
    const resolved = await git(gitDir, ["rev-parse", "--verify", "-q", `${candidate.rev}^{commit}`]);
    if (resolved.code === 0)
      return {
        ok: true,
        value: {
          gitDir,
          base: resolved.stdout.trim(),
          ...(candidate.branch === undefined ? {} : { branch: candidate.branch }),
        },
      };
  }
  return {
    ok: false,
    error: {
      failure_class: "repo_unavailable",
      message: `base_ref '${ref}' is not a branch, tag or commit of ${shown}; give one that exists there (git ls-remote ${shown} lists its branches and tags)`,
    },
  };
}
