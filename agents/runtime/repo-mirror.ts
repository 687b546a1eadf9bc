// One bare mirror per repository a task names by URL (docs/repositories.md): cloned on first use
// into `<state-dir>/mirrors/<host>/<path>.git`, fetched once per task under the mirror's lock, and
// the source of every attempt's worktree. The remote's branches live under `refs/remotes/origin/`,
// so a fetch (with --prune) never touches the attempts' own `mesh/…` branches in `refs/heads/`.
// Credentials are the agent's own: git's credential helper, the SSH agent, `gh`'s login; git is
// never let ask on a terminal. A mirror that is no longer a git directory, or whose fetch reports
// corruption, is moved aside and cloned again.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Result, redactRepoUrl, repoUrlParts } from "../../protocol/index.ts";
import { CORRUPTION, dirFault, type MirrorFault, mirrorFailure } from "./mirror-faults.ts";
import { git, gitSaid, throttled } from "./mirror-git.ts";
import { withMirrorLock } from "./mirror-lock.ts";
import { arrangeRefs, type MirrorBase, resolveBase } from "./mirror-refs.ts";

/** A clone of a large repository takes long; a stalled one is git's own (http.lowSpeedTime) to end. */
const NETWORK_TIMEOUT_MS = 60 * 60_000;
/** How long an attempt waits for another process's clone or fetch of the same mirror. */
const LOCK_WAIT_MS = 60 * 60_000;

/**
 * The mirror's folder for a URL: `<host>[_<port>]/<path>.git`, each part reduced to safe characters (plus a hash of the
 * URL when that changed anything).
 */
export function mirrorPathOf(mirrorsDir: string, url: string): string {
  const parts = repoUrlParts(url);
  const host = parts.scheme === "file" ? "file" : `${parts.host}${parts.port === "" ? "" : `_${parts.port}`}`;
  const raw = [
    host,
    ...parts.path
      .replace(/\.git\/?$/, "")
      .split("/")
      .filter((s) => s !== "" && s !== "."),
  ];
  const safe = raw.map((s) => s.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_"));
  const altered = safe.join("/") !== raw.join("/") || safe.length < 2;
  const suffix = altered ? `-${createHash("sha256").update(url).digest("hex").slice(0, 8)}` : "";
  return `${join(mirrorsDir, ...safe)}${suffix}.git`;
}

export class RepoMirrors {
  /** Each task's one sync of its mirror: later attempts of the task on this agent reuse it. */
  private readonly synced = new Map<string, Promise<Result<string, MirrorFault>>>();

  constructor(private readonly options: { mirrorsDir: string; log: (text: string) => void }) {}

  get mirrorsDir(): string {
    return this.options.mirrorsDir;
  }

  /**
   * The mirror of `url`, up to date for task `taskId` (cloned or fetched once per task), and the
   * commit `baseRef` names on the remote (default: the remote's default branch).
   */
  async forTask(
    taskId: string,
    url: string,
    baseRef: string | undefined,
    onProgress: (line: string) => void,
  ): Promise<Result<MirrorBase, MirrorFault>> {
    const key = `${taskId}\n${url}`;
    let sync = this.synced.get(key);
    if (sync === undefined) {
      sync = this.sync(url, onProgress);
      this.synced.set(key, sync);
    }
    const synced = await sync;
    // A failed sync is not remembered: a person's retry of the task tries the remote again.
    if (!synced.ok) {
      if (this.synced.get(key) === sync) this.synced.delete(key);
      return synced;
    }
    return resolveBase(synced.value, url, baseRef);
  }

  /** The task ended: its next attempt here (there is none) would fetch again. */
  forget(taskId: string): void {
    for (const key of this.synced.keys()) if (key.startsWith(`${taskId}\n`)) this.synced.delete(key);
  }

  /** Where the mirror of `url` is, synced or not (a resumed attempt's worktree belongs to it). */
  pathOf(url: string): string {
    return mirrorPathOf(this.options.mirrorsDir, url);
  }

  private async sync(url: string, onProgress: (line: string) => void): Promise<Result<string, MirrorFault>> {
    const dir = this.pathOf(url);
    try {
      await mkdir(dirname(dir), { recursive: true });
    } catch (error) {
      return {
        ok: false,
        error: dirFault(this.options.mirrorsDir, String((error as NodeJS.ErrnoException).code ?? ""), String(error)),
      };
    }
    return withMirrorLock(dir, LOCK_WAIT_MS, async () => {
      const exists = (await stat(dir).catch(() => undefined)) !== undefined;
      if (!exists) return this.clone(url, dir, onProgress);
      const valid = await git(dir, ["rev-parse", "--git-dir"]);
      if (valid.code !== 0 || valid.stdout.trim() !== ".") {
        this.report(
          onProgress,
          `the mirror ${dir} is not a usable git directory (${gitSaid(valid.stderr)}): moving it aside and cloning again`,
        );
        await moveAside(dir);
        return this.clone(url, dir, onProgress);
      }
      const fetched = await this.fetch(url, dir, onProgress);
      if (fetched.ok || !CORRUPTION.test(fetched.error.message)) return fetched;
      this.report(
        onProgress,
        `the mirror ${dir} is damaged (${fetched.error.message}): moving it aside and cloning again`,
      );
      await moveAside(dir);
      return this.clone(url, dir, onProgress);
    }).catch(
      (error: unknown): Result<string, MirrorFault> => ({
        ok: false,
        error: {
          failure_class: "repo_unavailable",
          message: `the mirror of ${redactRepoUrl(url)} could not be used: ${error instanceof Error ? error.message : String(error)}`,
        },
      }),
    );
  }

  private report(onProgress: (line: string) => void, text: string): void {
    this.options.log(text);
    onProgress(text);
  }

  /**
   * `git clone --bare` into a temporary folder, its branches moved under `refs/remotes/origin/`, then renamed into
   * place.
   */
  private async clone(
    url: string,
    dir: string,
    onProgress: (line: string) => void,
  ): Promise<Result<string, MirrorFault>> {
    // Under the mirror's lock nobody else clones it: a half-made clone or a moved-aside mirror beside it is a dead
    // run's.
    const base = basename(dir);
    for (const name of await readdir(dirname(dir)).catch(() => [])) {
      const rest = name.startsWith(base) ? name.slice(base.length) : "";
      const partialLeft = /^\.partial-\d+-[0-9a-f]{8}$/.test(rest);
      if (!partialLeft && !/^\.broken-\d+$/.test(rest)) continue;
      const removed = rm(join(dirname(dir), name), { recursive: true, force: true }).catch(() => undefined);
      // A moved-aside mirror may be large: it goes in the background, as moveAside does.
      if (partialLeft) await removed;
    }
    const partial = `${dir}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
    const progress = throttled(onProgress);
    this.report(
      onProgress,
      `cloning ${redactRepoUrl(url)} into the agent's mirror ${dir} (first use of this repository here)`,
    );
    const cloned = await git(dirname(dir), ["clone", "--bare", "--progress", "--", url, partial], {
      timeoutMs: NETWORK_TIMEOUT_MS,
      onLine: progress.line,
    });
    progress.flush();
    if (cloned.code !== 0) {
      await rm(partial, { recursive: true, force: true });
      return { ok: false, error: mirrorFailure(this.options.mirrorsDir, "clone", url, dir, cloned.stderr) };
    }
    const arranged = await arrangeRefs(partial);
    if (arranged !== undefined) {
      await rm(partial, { recursive: true, force: true });
      return { ok: false, error: mirrorFailure(this.options.mirrorsDir, "clone", url, dir, arranged) };
    }
    await rename(partial, dir);
    return { ok: true, value: dir };
  }

  private async fetch(
    url: string,
    dir: string,
    onProgress: (line: string) => void,
  ): Promise<Result<string, MirrorFault>> {
    // The same repository by another URL (ssh instead of https): the mirror follows the task's.
    const origin = await git(dir, ["remote", "get-url", "origin"]);
    if (origin.stdout.trim() !== url) await git(dir, ["remote", "set-url", "origin", url]);
    const progress = throttled(onProgress);
    const fetched = await git(dir, ["fetch", "--progress", "--prune", "origin"], {
      timeoutMs: NETWORK_TIMEOUT_MS,
      onLine: progress.line,
    });
    progress.flush();
    return fetched.code === 0
      ? { ok: true, value: dir }
      : { ok: false, error: mirrorFailure(this.options.mirrorsDir, "fetch", url, dir, fetched.stderr) };
  }
}

/** The mirror out of the way at once (a rename), removed in the background. */
async function moveAside(dir: string): Promise<void> {
  const aside = `${dir}.broken-${Date.now()}`;
  await rename(dir, aside).catch(() => rm(dir, { recursive: true, force: true }));
  void rm(aside, { recursive: true, force: true }).catch(() => undefined);
}
