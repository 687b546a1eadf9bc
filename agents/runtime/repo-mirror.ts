// One bare mirror per repository a task names by URL (docs/repositories.md): cloned on first use
// into `<state-dir>/mirrors/<host>/<path>.git`, fetched once per task under the mirror's lock, and
// the source of every attempt's worktree. The remote's branches live under `refs/remotes/origin/`,
// so a fetch (with --prune) never touches the attempts' own `mesh/…` branches in `refs/heads/`.
// Credentials are the agent's own: git's credential helper, the SSH agent, `gh`'s login; git is
// never let ask on a terminal. A mirror that is no longer a git directory, or whose fetch reports
// corruption, is moved aside and cloned again.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Result, redactRepoUrl, repoUrlParts } from "../../protocol/index.ts";
import { withMirrorLock } from "./mirror-lock.ts";
import { diskFaultInGitOutput } from "./worktree-dir-health.ts";

/** A clone of a large repository takes long; a stalled one is git's own (http.lowSpeedTime) to end. */
const NETWORK_TIMEOUT_MS = 60 * 60_000;
const LOCAL_TIMEOUT_MS = 120_000;
/** How long an attempt waits for another process's clone or fetch of the same mirror. */
const LOCK_WAIT_MS = 60 * 60_000;
/** Progress lines passed to the task's log: at most one per this many ms (the last one always). */
const PROGRESS_EVERY_MS = 250;
/** What git prints when the mirror's own objects or refs are broken (not the remote's fault). */
const CORRUPTION =
  /corrupt|bad object|missing (blob|tree|commit|object)|unable to read|loose object|not a git repository|did not send all necessary objects|packfile .* cannot be accessed|failed to read object/i;

/**
 * Why a repository gave no mirror or no base: unreachable or unknown (`repo_unavailable`), or no room (`disk_full`).
 */
export type MirrorFault = { failure_class: "repo_unavailable" | "disk_full"; message: string };
/**
 * The mirror an attempt's worktree comes from, the commit it starts at, and the remote branch that is (when it is one).
 */
export type MirrorBase = { gitDir: string; base: string; branch?: string };

type GitRun = { code: number; stderr: string; stdout: string };

/** Clones and fetches running now: a stopping agent ends them (`stopNetworkGit`) instead of waiting up to an hour. */
const networkChildren = new Set<ChildProcess>();

/**
 * Ends every clone and fetch this process runs (the agent is stopping); their attempts fail and are requeued as lost.
 */
export function stopNetworkGit(): void {
  for (const child of networkChildren) child.kill("SIGTERM");
}

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

function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    LC_ALL: "C",
  };
  for (const name of [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
  ])
    delete env[name];
  // ssh must not ask for a password or a host key either: it fails instead, and says why.
  if (env.GIT_SSH_COMMAND === undefined && env.GIT_SSH === undefined) env.GIT_SSH_COMMAND = "ssh -o BatchMode=yes";
  return env;
}

/** Runs git; stderr lines (progress included: `\r`-separated) go to `onLine` as they come. */
function git(
  cwd: string,
  args: readonly string[],
  options: { timeoutMs?: number; onLine?: (line: string) => void } = {},
): Promise<GitRun> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let pending = "";
    const child = spawn("git", ["-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*", ...args], {
      cwd,
      env: gitEnvironment(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? LOCAL_TIMEOUT_MS);
    if (options.onLine !== undefined) networkChildren.add(child);
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => {
      const text = pending + chunk.toString("utf8");
      const pieces = text.split(/[\r\n]/);
      pending = pieces.pop() ?? "";
      for (const piece of pieces) {
        if (piece.trim() === "") continue;
        stderr = `${stderr}${piece}\n`.slice(-64_000);
        options.onLine?.(piece);
      }
    });
    const finish = (code: number, extra = ""): void => {
      clearTimeout(timer);
      networkChildren.delete(child);
      if (pending.trim() !== "") options.onLine?.(pending);
      resolve({ code, stdout, stderr: `${stderr}${pending}${extra}` });
    };
    child.on("error", (error) => finish(1, error.message));
    child.on("close", (code, signal) =>
      finish(
        code ?? 1,
        signal === null
          ? ""
          : `git was stopped by ${signal} after ${Math.round((options.timeoutMs ?? LOCAL_TIMEOUT_MS) / 1000)} s`,
      ),
    );
  });
}

/** Progress lines at most a few per second, the last one always (so the log ends with where it got to). */
function throttled(onProgress: (line: string) => void): { line: (text: string) => void; flush: () => void } {
  let last = 0;
  let held: string | undefined;
  return {
    line: (text) => {
      const now = Date.now();
      // Lines that are not a percentage count (a warning, a "Cloning into") always go.
      if (!/\d+%/.test(text) || now - last >= PROGRESS_EVERY_MS) {
        last = now;
        held = undefined;
        onProgress(text);
      } else held = text;
    },
    flush: () => {
      if (held !== undefined) onProgress(held);
      held = undefined;
    },
  };
}

/** git's own words on a failure: its fatal/error/remote lines, not its progress. */
function gitSaid(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/\d+%/.test(l) && !/^Cloning into/.test(l));
  const telling = lines.filter((l) => /^(fatal|error|remote|ERROR|ssh|Permission|Host key)/i.test(l));
  return (telling.length > 0 ? telling : lines).slice(-4).join("; ").slice(0, 800) || "no output";
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
      return { ok: false, error: this.failure("clone", url, dir, cloned.stderr) };
    }
    const arranged = await arrangeRefs(partial);
    if (arranged !== undefined) {
      await rm(partial, { recursive: true, force: true });
      return { ok: false, error: this.failure("clone", url, dir, arranged) };
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
      : { ok: false, error: this.failure("fetch", url, dir, fetched.stderr) };
  }

  private failure(what: "clone" | "fetch", url: string, dir: string, stderr: string): MirrorFault {
    const disk = diskFaultInGitOutput(stderr);
    if (disk !== undefined) return dirFault(this.options.mirrorsDir, disk.code, disk.line);
    const said = gitSaid(stderr).split(url).join(redactRepoUrl(url));
    if (what === "fetch" && CORRUPTION.test(said)) return { failure_class: "repo_unavailable", message: said };
    return {
      failure_class: "repo_unavailable",
      message: `could not ${what} ${redactRepoUrl(url)} (git: ${said}). Check the URL, that this agent can reach the host, and that the agent's own git credentials (credential helper, SSH agent, gh auth login) can read it: git ls-remote ${redactRepoUrl(url)} as the agent's user shows what git sees (mirror: ${dir})`,
    };
  }
}

/**
 * After `clone --bare`: fetch refspecs for a mirror, the remote's branches as `origin/*`, and `origin/HEAD` as its
 * default branch.
 */
async function arrangeRefs(gitDir: string): Promise<string | undefined> {
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

function gitWithInput(cwd: string, args: readonly string[], input: string): Promise<GitRun> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { cwd, env: gitEnvironment(), stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
    child.stdout.resume();
    child.on("error", (error) => resolve({ code: 1, stdout: "", stderr: error.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: "", stderr }));
    child.stdin.end(input);
  });
}

/** The commit `baseRef` names on the remote (a branch, a tag, a sha), default the remote's default branch. */
async function resolveBase(
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

/** The mirror out of the way at once (a rename), removed in the background. */
async function moveAside(dir: string): Promise<void> {
  const aside = `${dir}.broken-${Date.now()}`;
  await rename(dir, aside).catch(() => rm(dir, { recursive: true, force: true }));
  void rm(aside, { recursive: true, force: true }).catch(() => undefined);
}

function dirFault(mirrorsDir: string, code: string, detail: string): MirrorFault {
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
