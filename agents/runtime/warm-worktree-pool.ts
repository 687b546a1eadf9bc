// Spare worktrees per repository (docs/repositories.md "Warm worktrees"). Making an attempt's
// worktree writes every file of the repository; a released one already holds nearly all of them.
// So a released worktree is parked (moved under <worktrees>/.warm/<repo key>/, its branch let go,
// locked with a reason) while its repository has fewer than `size` spares, and the next attempt on
// that repository takes it: moved to the attempt's own path (resume and the sweeps find attempts by
// path), then `checkout -f -B <branch> <base>` + `clean -ffdx`, which write only what differs and
// leave nothing of the previous attempt, ignored files included. A spare git cannot move or reset
// is dropped and the attempt makes a fresh worktree, as without a pool.
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { removeWorktree, type SpareWorktrees } from "./attempt-worktree.ts";
import { git, MANY_FILES_SETTINGS } from "./local-git.ts";
import { repoKey } from "./worktree-paths.ts";

/** The pool's folder under the worktrees directory; the sweeps of attempts' folders skip it. */
export const WARM_FOLDER = ".warm";
/** What `git worktree list` says of a spare (`locked`; `--porcelain`: `locked agent-mesh warm worktree`). */
export const WARM_LOCK_REASON = "agent-mesh warm worktree";
export const WARM_WORKTREES_DEFAULT = 2;
export const WARM_WORKTREES_MAX = 16;

type Spare = { repo: string; path: string; parkedAt: number; reset: Promise<boolean> };

export type PoolOptions = {
  worktreesDir: string;
  /** Spares kept per repository; 0 turns the pool off (every released worktree is removed). */
  size: number;
  /**
   * Reset a parked spare at once, in the background (`reset --hard` + `clean -ffdx`), so that the
   * next attempt only switches it to its base; false leaves all of it to the next attempt.
   */
  eagerReset?: boolean;
  log?: (line: string) => void;
};

export class WarmWorktreePool implements SpareWorktrees {
  private readonly spares = new Map<string, Spare[]>();
  /** Releases being parked now, counted against `size` so two at once never overfill a repository's pool. */
  private readonly parking = new Map<string, number>();
  private serial = 0;

  constructor(private readonly options: PoolOptions) {}

  /** Spares parked for `repo` now. */
  count(repo: string): number {
    return this.spares.get(repo)?.length ?? 0;
  }

  /** Resolves once every parked spare's background reset has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.spares.values()].flat().map((spare) => spare.reset));
  }

  /**
   * Puts a spare of `repo` at `worktree` on `branch` at `base`: true on a hit, false when none could be (nothing is
   * left at `worktree`).
   */
  async take(repo: string, worktree: string, branch: string, base: string): Promise<boolean> {
    for (let spare = this.spares.get(repo)?.pop(); spare !== undefined; spare = this.spares.get(repo)?.pop()) {
      if (await this.place(spare, worktree, branch, base)) return true;
      this.options.log?.(
        `dropped the warm worktree ${spare.path}: git could not move or reset it; a new worktree is made instead`,
      );
    }
    return false;
  }

  private async place(spare: Spare, worktree: string, branch: string, base: string): Promise<boolean> {
    // An eager reset still running finishes first: two gits must not write one index at once.
    await spare.reset;
    // Moving checks the folder is still this repository's worktree (its .git points back): a deleted
    // or foreign folder fails here, before any checkout could reach another repository. Twice forced:
    // a locked worktree moves only so; the lock goes while the files are switched.
    const moved = await git(spare.repo, ["worktree", "move", "-f", "-f", spare.path, worktree]);
    if (moved.code !== 0) {
      await drop(spare.repo, spare.path);
      return false;
    }
    const [switched] = await Promise.all([
      git(worktree, [...MANY_FILES_SETTINGS, "checkout", "-f", "-q", "-B", branch, base]),
      git(spare.repo, ["worktree", "unlock", worktree]),
    ]);
    // After an eager reset nothing untracked is left but what a straggling process wrote since: clean anyway.
    const cleaned = switched.code === 0 && (await git(worktree, ["clean", "-ffdxq"])).code === 0;
    if (cleaned) return true;
    await drop(spare.repo, worktree);
    return false;
  }

  /** A released attempt's worktree: parked as a spare when its repository's pool has room, else removed. */
  async give(repo: string, worktree: string): Promise<void> {
    const held = this.count(repo) + (this.parking.get(repo) ?? 0);
    if (this.options.size <= 0 || held >= this.options.size) return removeWorktree(repo, worktree);
    this.parking.set(repo, (this.parking.get(repo) ?? 0) + 1);
    try {
      const path = join(
        this.options.worktreesDir,
        WARM_FOLDER,
        repoKey(repo),
        `${Date.now().toString(36)}-${process.pid}-${++this.serial}`,
      );
      const parked = await mkdir(dirname(path), { recursive: true }).then(
        () => this.park(repo, worktree, path),
        () => false,
      );
      if (!parked) await drop(repo, (await exists(path)) ? path : worktree);
    } finally {
      this.parking.set(repo, (this.parking.get(repo) ?? 1) - 1);
    }
  }

  private async park(repo: string, worktree: string, path: string): Promise<boolean> {
    if ((await git(repo, ["worktree", "move", worktree, path])).code !== 0) return false;
    // Detached, it no longer holds the attempt's branch, which stays with its commit (delivery, apply).
    // update-ref, not checkout --detach: HEAD alone is written, no index refresh over every file.
    const [detached, locked] = await Promise.all([
      git(path, ["update-ref", "--no-deref", "HEAD", "HEAD"]),
      git(repo, ["worktree", "lock", "--reason", WARM_LOCK_REASON, path]),
    ]);
    if (detached.code !== 0 || locked.code !== 0) return false;
    const reset = this.options.eagerReset === true ? resetInPlace(path) : Promise.resolve(false);
    this.add({ repo, path, parkedAt: Date.now(), reset });
    return true;
  }

  private add(spare: Spare): void {
    const list = this.spares.get(spare.repo) ?? [];
    list.push(spare);
    this.spares.set(spare.repo, list);
  }

  /** Removes spares parked longer than `maxIdleMs` (the agent's keep time for worktrees). */
  async sweep(maxIdleMs: number): Promise<void> {
    for (const [repo, list] of this.spares) {
      const stale = list.filter((spare) => Date.now() - spare.parkedAt >= maxIdleMs);
      if (stale.length === 0) continue;
      this.spares.set(
        repo,
        list.filter((spare) => !stale.includes(spare)),
      );
      for (const spare of stale) await spare.reset.then(() => drop(repo, spare.path));
    }
  }

  /**
   * At start: the spares a previous run parked are taken back (reset when used), up to `size` per
   * repository; the rest, and folders no repository knows any more, are removed.
   */
  async adopt(): Promise<void> {
    const root = join(this.options.worktreesDir, WARM_FOLDER);
    for (const key of await readdir(root).catch(() => [])) {
      for (const name of await readdir(join(root, key)).catch(() => [])) {
        const path = join(root, key, name);
        const repo = await repoOf(path);
        if (repo !== undefined && this.count(repo) < this.options.size)
          this.add({ repo, path, parkedAt: Date.now(), reset: Promise.resolve(false) });
        else if (repo !== undefined) await drop(repo, path);
        else await rm(path, { recursive: true, force: true });
      }
      if ((await readdir(join(root, key)).catch(() => ["x"])).length === 0)
        await rm(join(root, key), { recursive: true, force: true });
    }
  }
}

/**
 * The previous attempt's changes and files gone, tracked, untracked and ignored (a spare just parked, its .git checked
 * by the move).
 */
async function resetInPlace(path: string): Promise<boolean> {
  if ((await git(path, [...MANY_FILES_SETTINGS, "reset", "--hard", "-q"])).code !== 0) return false;
  return (await git(path, ["clean", "-ffdxq"])).code === 0;
}

async function drop(repo: string, path: string): Promise<void> {
  // A locked worktree is neither removed nor pruned by git.
  await git(repo, ["worktree", "unlock", path]);
  await removeWorktree(repo, path);
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/**
 * The repository a worktree belongs to: its `.git` file points into `<repo>/.git/worktrees/…`, or a bare mirror's
 * `<mirror>/worktrees/…`.
 */
export async function repoOf(worktree: string): Promise<string | undefined> {
  const pointer = await readFile(join(worktree, ".git"), "utf8").catch(() => undefined);
  const gitdir = pointer?.match(/^gitdir: (.*)$/m)?.[1]?.trim();
  const at = gitdir?.lastIndexOf("/worktrees/") ?? -1;
  if (gitdir === undefined || at < 0) return undefined;
  const common = gitdir.slice(0, at);
  return common.endsWith("/.git") ? common.slice(0, -"/.git".length) : common;
}
