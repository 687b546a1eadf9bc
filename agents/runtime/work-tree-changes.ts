// Which files a run changed, where its cwd is a git work tree. Snapshots are taken before and after
// the run and compared, so files that were already dirty are not blamed on it unless it touched them
// again; a snapshot holds each dirty path's status and stat, and HEAD, so a run that commits its
// work still shows what it changed. Paths come back relative to cwd (`../x` for outside it).
// Files git ignores are not seen.
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { join, posix } from "node:path";

export interface WorkTreeSnapshot {
  /** The work tree's top directory. */
  root: string;
  /** cwd relative to root, `/`-separated, without a trailing slash ("" at the top). */
  prefix: string;
  head: string | undefined;
  /** Dirty path (relative to root) → its status and stat, so a further change to it shows. */
  dirty: Map<string, string>;
}

const GIT_TIMEOUT_MS = 60_000;
/** Dirty files stat'ed at once. */
const STAT_BATCH = 256;
/** Most changed files reported (the wire's limit). */
export const MAX_CHANGED_FILES = 1000;

/** The state of cwd's work tree; undefined when cwd is not in one (or git is missing). */
export async function snapshotWorkTree(cwd: string): Promise<WorkTreeSnapshot | undefined> {
  const where = await git(cwd, ["rev-parse", "--show-toplevel", "--show-prefix"]);
  if (where === undefined) return undefined;
  const [root = "", prefix = ""] = where.split("\n");
  const status = await git(cwd, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  if (status === undefined) return undefined;
  const head = (await git(cwd, ["rev-parse", "--verify", "-q", "HEAD"]))?.trim();
  const entries: Array<[path: string, code: string]> = [];
  const fields = status.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? "";
    if (field.length < 4) continue;
    const code = field.slice(0, 2);
    entries.push([field.slice(3), code]);
    // A rename or copy is followed by its source path, which changed too.
    if (code.includes("R") || code.includes("C")) {
      const source = fields[++i];
      if (source !== undefined && source !== "") entries.push([source, `${code} (source)`]);
    }
  }
  const dirty = await stampedEntries(root, entries);
  return { root, prefix: prefix.replace(/\/$/, ""), head: head === "" ? undefined : head, dirty };
}

/** Files that differ between two snapshots of the same work tree, relative to cwd, sorted. */
export async function changedFiles(before: WorkTreeSnapshot, after: WorkTreeSnapshot, cwd: string): Promise<string[]> {
  const changed = new Set<string>();
  for (const [path, state] of after.dirty) if (before.dirty.get(path) !== state) changed.add(path);
  // A dirty file the run reverted (or committed) changed as well.
  for (const path of before.dirty.keys()) if (!after.dirty.has(path)) changed.add(path);
  if (before.head !== undefined && after.head !== undefined && before.head !== after.head) {
    const committed = await git(cwd, ["diff", "--name-only", "-z", before.head, after.head]);
    for (const path of committed?.split("\0") ?? []) if (path !== "") changed.add(path);
  }
  return [...changed]
    .map((path) => posix.relative(after.prefix, path))
    .sort()
    .slice(0, MAX_CHANGED_FILES);
}

/**
 * The user's checkout as it stands, in one git process (docs/faults.md): `status --porcelain=v2
 * --branch` names HEAD and every dirty path; each dirty path gets its stat, so a further change to a
 * file that was already dirty shows too. Paths are relative to `repo`, its top directory.
 */
export async function snapshotCheckout(repo: string): Promise<WorkTreeSnapshot | undefined> {
  const status = await git(repo, ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"]);
  if (status === undefined) return undefined;
  let head: string | undefined;
  const entries: Array<[path: string, code: string]> = [];
  const fields = status.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? "";
    if (field.startsWith("# branch.oid ")) {
      const oid = field.slice("# branch.oid ".length);
      head = /^[0-9a-f]+$/.test(oid) ? oid : undefined;
      continue;
    }
    // Ordinary (1), renamed or copied (2, its source in the next field), unmerged (u), untracked (?):
    // the path follows a fixed number of space-separated fields.
    const kind = field[0];
    const parts = kind === "1" ? 8 : kind === "2" ? 9 : kind === "u" ? 10 : kind === "?" ? 1 : undefined;
    if (parts === undefined) continue;
    const pieces = field.split(" ");
    const path = pieces.slice(parts).join(" ");
    const code = kind === "?" ? "??" : (pieces[1] ?? "");
    if (path !== "") entries.push([path, code]);
    if (kind === "2") {
      const source = fields[++i];
      if (source !== undefined && source !== "") entries.push([source, `${code} (source)`]);
    }
  }
  const dirty = await stampedEntries(repo, entries);
  return { root: repo, prefix: "", head, dirty };
}

/** Each changed path with its status code and file stamp, stat'ed STAT_BATCH at a time. */
async function stampedEntries(root: string, entries: Array<[string, string]>): Promise<Map<string, string>> {
  const dirty = new Map<string, string>();
  for (let start = 0; start < entries.length; start += STAT_BATCH) {
    const batch = entries.slice(start, start + STAT_BATCH);
    const stamps = await Promise.all(batch.map(([path]) => fileStamp(join(root, path))));
    for (const [i, [path, code]] of batch.entries()) dirty.set(path, `${code} ${stamps[i] ?? ""}`);
  }
  return dirty;
}

async function fileStamp(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.size}:${info.mtimeMs}:${info.ino}`;
  } catch {
    return "gone";
  }
}

/** git's stdout, or undefined when it fails. Read-only: no index refresh, and any owner's repo. */
function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    // safe.directory: the agent may run as another user than the repo's owner; it only reads.
    execFile(
      "git",
      ["-c", "safe.directory=*", "--no-optional-locks", ...args],
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        resolve(error === null ? stdout : undefined);
      },
    );
  });
}
