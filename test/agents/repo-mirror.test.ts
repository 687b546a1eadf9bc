// The agent's repository mirrors (docs/repositories.md) with real git on file:// URLs: safe folder
// names, one sync per task, the lock serializing writers (and taking over a dead process's lock
// file), and a mirrors directory that cannot be made failing disk_full.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { withMirrorLock } from "../../agents/runtime/mirror-lock.ts";
import { mirrorPathOf, RepoMirrors } from "../../agents/runtime/repo-mirror.ts";
import { tempDirs } from "../temp-dirs.ts";

// Removed after the file's last test: a describe block below makes one while it is collected.
const temp = tempDirs("all");
const git = (cwd: string, ...args: string[]): string =>
  execFileSync(
    "git",
    ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main", ...args],
    { cwd, encoding: "utf8" },
  ).trim();

/** A bare repository with one commit on main; returns its file:// URL and the commit. */
function origin(): { url: string; bare: string; head: string } {
  const work = temp("mirror-work-");
  git(work, "init", "-q");
  writeFileSync(join(work, "a.txt"), "a\n");
  git(work, "add", ".");
  git(work, "commit", "-qm", "a");
  const bare = join(temp("mirror-origin-"), "r.git");
  git(work, "clone", "-q", "--bare", work, bare);
  return { url: `file://${bare}`, bare, head: git(work, "rev-parse", "HEAD") };
}

describe("mirror folders", () => {
  it("names a mirror by host, port and path, with a hash only when characters had to change", () => {
    expect(mirrorPathOf("/m", "https://github.com/o/r.git")).toBe("/m/github.com/o/r.git");
    expect(mirrorPathOf("/m", "git@github.com:o/r")).toBe("/m/github.com/o/r.git");
    expect(mirrorPathOf("/m", "git://127.0.0.1:9418/r.git")).toBe("/m/127.0.0.1_9418/r.git");
    expect(mirrorPathOf("/m", "file:///srv/git/r.git")).toBe("/m/file/srv/git/r.git");
    expect(mirrorPathOf("/m", "https://h/a%20b/r.git")).toMatch(/^\/m\/h\/a_b\/r-[0-9a-f]{8}\.git$/);
    // An scp-like path climbing out stays inside the mirrors folder.
    expect(mirrorPathOf("/m", "host:../../etc/x")).toMatch(/^\/m\/host\/_\/_\/etc\/x-[0-9a-f]{8}\.git$/);
  });
});

describe("syncing a mirror", () => {
  it("clones once, then reuses the task's sync, and resolves the default branch, a tag and a sha", async () => {
    const { url, bare, head } = origin();
    git(bare, "tag", "v1", head);
    const progress: string[] = [];
    const mirrors = new RepoMirrors({ mirrorsDir: temp("mirrors-"), log: () => {} });
    const first = await mirrors.forTask("T1", url, undefined, (line) => progress.push(line));
    expect(first).toMatchObject({ ok: true, value: { base: head, branch: "main" } });
    expect(progress[0]).toMatch(/^cloning file:\/\/.* into the agent's mirror/);
    const gitDir = first.ok ? first.value.gitDir : "";
    expect(git(gitDir, "for-each-ref", "--format=%(refname)")).toBe(
      ["refs/remotes/origin/HEAD", "refs/remotes/origin/main", "refs/tags/v1"].join("\n"),
    );
    // The same task again: no progress (no network), the same answer.
    const again = await mirrors.forTask("T1", url, "v1", (line) => progress.push(`again ${line}`));
    expect(again).toMatchObject({ ok: true, value: { base: head } });
    expect(progress.some((line) => line.startsWith("again"))).toBe(false);
    expect(await mirrors.forTask("T2", url, head.slice(0, 12), () => {})).toMatchObject({
      ok: true,
      value: { base: head },
    });
    const missing = await mirrors.forTask("T3", url, "nope", () => {});
    expect(missing).toMatchObject({ ok: false, error: { failure_class: "repo_unavailable" } });
  });

  it("removes a dead run's half-made clone of the same mirror before cloning, and nothing else beside it", async () => {
    const { url } = origin();
    const mirrors = new RepoMirrors({ mirrorsDir: temp("mirrors-"), log: () => {} });
    const dir = mirrors.pathOf(url);
    mkdirSync(`${dir}.partial-123-0badcafe`, { recursive: true });
    mkdirSync(`${dir}.partial-keep.git`, { recursive: true });
    mkdirSync(join(dir, "..", "other.git"), { recursive: true });
    expect((await mirrors.forTask("T1", url, undefined, () => {})).ok).toBe(true);
    expect(readdirSync(join(dir, "..")).sort()).toEqual(["other.git", "r.git", "r.git.partial-keep.git"]);
  });

  it("fails disk_full, naming the directory, when the mirrors directory cannot be made", async () => {
    const { url } = origin();
    const blocked = join(temp("mirrors-blocked-"), "file-in-the-way");
    writeFileSync(blocked, "not a directory\n");
    const mirrors = new RepoMirrors({ mirrorsDir: blocked, log: () => {} });
    const synced = await mirrors.forTask("T1", url, undefined, () => {});
    expect(synced).toMatchObject({ ok: false, error: { failure_class: "disk_full" } });
    expect(synced.ok ? "" : synced.error.message).toContain(blocked);
  });

  // A real full disk: a 1 MiB tmpfs (needs root, as in the CI container; skipped where mount is refused).
  const tmpfs = temp("mirrors-tmpfs-");
  const mounted = (() => {
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", tmpfs], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  afterAll(() => {
    if (mounted) execFileSync("umount", [tmpfs]);
  });
  it.skipIf(!mounted)("fails disk_full when the disk fills while cloning, and leaves no half-made mirror", async () => {
    const { url, bare } = origin();
    const work = temp("mirror-big-");
    git(work, "clone", "-q", bare, ".");
    writeFileSync(join(work, "big.bin"), randomBytes(4 * 1024 * 1024));
    git(work, "add", ".");
    git(work, "commit", "-qm", "big");
    git(work, "push", "-q", "origin", "HEAD:main");
    const mirrors = new RepoMirrors({ mirrorsDir: join(tmpfs, "mirrors"), log: () => {} });
    const synced = await mirrors.forTask("T1", url, undefined, () => {});
    expect(synced).toMatchObject({ ok: false, error: { failure_class: "disk_full" } });
    expect(synced.ok ? "" : synced.error.message).toMatch(/mirrors is full \(.*No space left on device\)/);
    expect(readdirSync(join(mirrors.pathOf(url), ".."))).toEqual([]);
  });

  it("fails repo_unavailable naming the URL for a repository that does not exist", async () => {
    const mirrors = new RepoMirrors({ mirrorsDir: temp("mirrors-"), log: () => {} });
    const synced = await mirrors.forTask("T1", "file:///no/such/repo.git", undefined, () => {});
    expect(synced).toMatchObject({ ok: false, error: { failure_class: "repo_unavailable" } });
    expect(synced.ok ? "" : synced.error.message).toMatch(/^could not clone file:\/\/\/no\/such\/repo\.git \(git: /);
  });
});

describe("the mirror lock", () => {
  it("runs one holder at a time in a process, in arrival order", async () => {
    const mirror = join(temp("lock-"), "r.git");
    const events: string[] = [];
    const hold = (name: string, ms: number) =>
      withMirrorLock(mirror, 10_000, async () => {
        events.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        events.push(`${name} out`);
      });
    await Promise.all([hold("a", 50), hold("b", 10), hold("c", 1)]);
    expect(events).toEqual(["a in", "a out", "b in", "b out", "c in", "c out"]);
    expect(readdirSync(join(mirror, ".."))).toEqual([]);
  });

  it("takes over a lock file whose process is gone, and waits for a live one", async () => {
    const dir = temp("lock-");
    const mirror = join(dir, "r.git");
    writeFileSync(`${mirror}.lock`, "999999999");
    expect(await withMirrorLock(mirror, 1000, async () => "taken")).toBe("taken");
    // A live process (this test's parent) holds it: the wait ends with a message naming the file.
    writeFileSync(`${mirror}.lock`, String(process.ppid));
    await expect(withMirrorLock(mirror, 500, async () => "never")).rejects.toThrow(
      /the mirror lock .*r\.git\.lock is held by process/,
    );
  });
});
