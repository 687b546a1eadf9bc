// Real remotes for the delivery tests (docs/delivery.md): bare repositories on disk (served over
// `file://`, or by test/integration/git-servers.ts's `git daemon`), and a fake `gh` that records its arguments.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git } from "./git-repo.ts";

export { git };

/** A bare remote `<root>/<name>.git` with `main` holding one commit (a.txt), and an agent's mirror of it. */
export function remoteAndMirror(root: string, name = "project"): { remote: string; mirror: string } {
  const seed = join(root, "seed");
  mkdirSync(seed);
  git(seed, "init", "-q", "-b", "main");
  writeFileSync(join(seed, "a.txt"), "one\ntwo\nthree\n");
  git(seed, "add", ".");
  git(seed, "commit", "-qm", "initial");
  const remote = join(root, `${name}.git`);
  git(root, "clone", "-q", "--bare", seed, remote);
  const mirror = join(root, "mirror.git");
  git(root, "clone", "-q", "--mirror", `file://${remote}`, mirror);
  return { remote, mirror };
}

/** A commit on `branch` in the mirror, as an attempt's worktree leaves it: one file written. */
export function attemptCommit(
  mirror: string,
  root: string,
  branch: string,
  file: string,
  text: string,
  from = "main",
): string {
  const worktree = join(root, `wt-${Math.random().toString(36).slice(2)}`);
  git(mirror, "worktree", "add", "-q", "-b", branch, worktree, from);
  writeFileSync(join(worktree, file), text);
  git(worktree, "add", "-A");
  git(worktree, "commit", "-qm", `work on ${file}`);
  const sha = git(worktree, "rev-parse", "HEAD");
  git(mirror, "worktree", "remove", "--force", worktree);
  return sha;
}

/** The sha of `ref` on the remote, or "" (what `git ls-remote` says). */
export function lsRemote(url: string, ref: string): string {
  return execFileSync("git", ["ls-remote", url, ref], { encoding: "utf8" }).split("\t")[0]?.trim() ?? "";
}

/** A pre-receive hook on a bare repository that refuses everything with `words`. */
export function refuseEverything(bare: string, words: string): void {
  const hook = join(bare, "hooks", "pre-receive");
  writeFileSync(hook, `#!/bin/sh\necho "${words}" >&2\nexit 1\n`);
  chmodSync(hook, 0o755);
}

/**
 * A fake `gh` in its own directory: records its arguments (one per line) to `args.txt` and prints a PR URL, or fails.
 */
export function fakeGh(root: string, behaviour: "opens" | "not-logged-in"): { dir: string; argsFile: string } {
  const dir = join(root, "fake-gh-bin");
  mkdirSync(dir, { recursive: true });
  const argsFile = join(root, "gh-args.txt");
  const script =
    behaviour === "opens"
      ? `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> "${argsFile}"; done\necho "Creating draft pull request into main"\necho "https://github.example/acme/project/pull/7"\n`
      : `#!/bin/sh\necho "To get started with GitHub CLI, please run:  gh auth login" >&2\nexit 4\n`;
  writeFileSync(join(dir, "gh"), script);
  chmodSync(join(dir, "gh"), 0o755);
  return { dir, argsFile };
}
