// The worktrees directory at fault, and a CLI that writes outside its worktree (docs/faults.md), on
// real file systems and real git: a real attempt session with the room played in memory. Read-only
// and full directories are real tmpfs mounts where the test may mount (root here and in CI: root
// ignores chmod); a file in the directory's place stands in elsewhere.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAttemptSession } from "../../agents/runtime/attempt-session.ts";
import { RateTable } from "../../agents/runtime/cost-rates.ts";
import { plainSupervisor } from "../../agents/runtime/process-limits.ts";
import {
  diskFaultInGitOutput,
  probeWorktreesDir,
  probeWorktreesDirNow,
} from "../../agents/runtime/worktree-dir-health.ts";
import { WorktreeKeeper } from "../../agents/runtime/worktree-keeper.ts";
import type { ExecutorSpec, TaskAssign } from "../../protocol/index.ts";
import { tempDirs } from "../temp-dirs.ts";
import { tmpfsMounts } from "../tmpfs-mounts.ts";
import { gitRepo } from "./git-repo.ts";
import { memoryTransports } from "./memory-transport.ts";

const WRITER = join(import.meta.dirname, "../fixtures/git-writer.mjs");
const temp = tempDirs();
const repo = (): string => gitRepo(temp("mesh-worktree-"));
const mountTmpfs = tmpfsMounts();
const canMount = ((): boolean => {
  const dir = mkdtempSync(join(tmpdir(), "mesh-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "ignore" });
    execFileSync("umount", [dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/** A worktrees directory that cannot be written: a read-only tmpfs, or else a file where the directory should be. */
function unwritableDir(): { dir: string; fix: () => void; expected: RegExp } {
  const dir = temp("mesh-wt-ro-");
  if (mountTmpfs(dir, "ro,size=1m"))
    return { dir, fix: () => execFileSync("mount", ["-o", "remount,rw", dir]), expected: /is not writable \(EROFS/ };
  const file = join(dir, "worktrees");
  writeFileSync(file, "not a directory\n");
  return { dir: file, fix: () => rmSync(file), expected: /is not a directory \((EEXIST|ENOTDIR)/ };
}

function assignOf(dir: string, attempt: number, extra: Partial<TaskAssign> = {}): TaskAssign {
  return {
    type: "task.assign",
    task_id: "01FAULTTASK",
    task_name: "fault",
    attempt,
    tier: "sonnet",
    prompt: "p",
    cwd: dir,
    ...extra,
  };
}
const writer = (...writes: string[]): ExecutorSpec => ({
  command: [process.execPath, WRITER, "w", ...writes],
  format: "text",
  timeout_s: 30,
});

/** Runs one attempt through a session, playing the task room, and returns its exit and log lines. */
async function runSession(assign: TaskAssign, executor: ExecutorSpec, keeper: WorktreeKeeper) {
  const transports = memoryTransports();
  const session = startAttemptSession({
    assign,
    executor,
    agent: "vm-1",
    server: new URL("http://mesh.test:1999"),
    token: "attempt-token",
    workdir: tmpdir(),
    supervisor: plainSupervisor("test"),
    rates: new RateTable(),
    log: () => {},
    worktrees: keeper,
    openTransport: transports.open,
  });
  const until = async (check: () => boolean): Promise<void> => {
    for (let i = 0; i < 1000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    if (!check()) throw new Error("the session did not get there");
  };
  await until(() => transports.all.length > 0);
  const room = transports.last();
  room.open();
  room.receive({ type: "attempt.accepted", attempt: assign.attempt, next_line: 0 });
  await until(() => room.sentOf("attempt.exit").length > 0);
  const exit = room.sentOf("attempt.exit")[0];
  if (exit === undefined) throw new Error("no exit");
  room.receive({
    type: "attempt.closed",
    attempt: assign.attempt,
    status: exit.failure_class === undefined ? "succeeded" : "failed",
  });
  await session.done;
  return { exit, lines: room.sentOf("log.batch").flatMap((batch) => batch.lines.map((line) => line.text)) };
}

describe("the worktrees directory, probed", () => {
  it("finds a usable directory usable, making it when missing, and leaves nothing behind", async () => {
    const dir = join(temp("mesh-wt-ok-"), "worktrees");
    expect(await probeWorktreesDir(dir)).toBeUndefined();
    expect(probeWorktreesDirNow(dir)).toBeUndefined();
    expect(execFileSync("ls", ["-A", dir], { encoding: "utf8" })).toBe("");
  });

  it("names a file in the directory's place, with the errno and what to do", async () => {
    const { dir, expected } = unwritableDir();
    const fault = await probeWorktreesDir(dir);
    expect(fault?.message).toMatch(expected);
    expect(fault?.message).toContain(dir);
    expect(fault?.message).toContain("give the agent --worktrees");
  });

  it.skipIf(!canMount)("names a full directory (a full tmpfs still makes folders: only the write tells)", async () => {
    const dir = temp("mesh-wt-full-");
    expect(mountTmpfs(dir, "size=1m")).toBe(true);
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${join(dir, "filler")}`, "bs=64k", "count=64"], { stdio: "ignore" });
    } catch {
      // dd stops at ENOSPC: the directory is full, as wanted.
    }
    const fault = await probeWorktreesDir(dir);
    expect(fault).toMatchObject({ code: "ENOSPC" });
    expect(fault?.message).toMatch(new RegExp(`the worktrees directory ${dir} is full \\(ENOSPC`));
    expect(fault?.message).toContain(`free space in ${dir}`);
    rmSync(join(dir, "filler"));
    expect(await probeWorktreesDir(dir)).toBeUndefined();
  });

  it("reads git's words for a full or read-only disk", () => {
    expect(
      diskFaultInGitOutput(
        "error: unable to write file a.txt\nfatal: cannot create directory at 'src': No space left on device",
      ),
    ).toEqual({ code: "ENOSPC", line: "fatal: cannot create directory at 'src': No space left on device" });
    expect(
      diskFaultInGitOutput("fatal: could not create leading directories of '/x/y': Read-only file system")?.code,
    ).toBe("EROFS");
    expect(diskFaultInGitOutput("fatal: invalid reference: nope")).toBeUndefined();
  });
});

describe("an attempt whose worktree cannot be made", () => {
  it("ends disk_full naming the path (never lost), degrades the agent for worktree tasks, and recovers once the directory works", async () => {
    const dir = repo();
    const { dir: worktreesDir, fix, expected } = unwritableDir();
    const health: Array<string | undefined> = [];
    const keeper = new WorktreeKeeper({
      worktreesDir,
      keepHours: 24,
      log: () => {},
      onHealth: (fault) => health.push(fault),
    });
    const failed = await runSession(assignOf(dir, 1), writer("a.txt=never"), keeper);
    expect(failed.exit).toMatchObject({ failure_class: "disk_full", exit_code: null });
    expect(failed.exit.error?.message).toMatch(expected);
    expect(failed.exit.error?.message).toContain(worktreesDir);
    expect(failed.lines.some((line) => line.includes("wrote"))).toBe(false);
    expect(keeper.degraded()).toMatch(expected);
    expect(health).toHaveLength(1);
    // A task that runs in place needs no worktree: it still runs here.
    const inPlace = await runSession(assignOf(dir, 2, { isolation: "none" }), writer("in-place.txt=ok"), keeper);
    expect(inPlace.exit.failure_class).toBeUndefined();
    // Nor does a cwd outside git: it runs in place, whatever the worktrees directory's state.
    const outsideGit = await runSession(assignOf(temp("mesh-wt-plain-"), 3), writer("plain.txt=ok"), keeper);
    expect(outsideGit.exit).toMatchObject({ isolation: "none" });
    expect(outsideGit.exit.failure_class).toBeUndefined();
    fix();
    expect(await keeper.check()).toBeUndefined();
    expect(keeper.degraded()).toBeUndefined();
    expect(health).toEqual([expect.stringMatching(expected), undefined]);
    const served = await runSession(assignOf(dir, 4), writer("a.txt=done"), keeper);
    expect(served.exit).toMatchObject({ isolation: "worktree", branch: "mesh/fault/4-sonnet" });
    expect(served.exit.failure_class).toBeUndefined();
  });

  it("starts degraded when the directory is unwritable at the agent's start", () => {
    const { dir, expected } = unwritableDir();
    const keeper = new WorktreeKeeper({ worktreesDir: dir, keepHours: 24, log: () => {} });
    keeper.start();
    keeper.stop();
    expect(keeper.degraded()).toMatch(expected);
  });
});

describe("a CLI that writes outside its worktree", () => {
  it("fails wrong_file naming the paths in the user's checkout, and leaves the files as they are", async () => {
    const dir = repo();
    const keeper = new WorktreeKeeper({ worktreesDir: temp("mesh-wt-dir-"), keepHours: 24, log: () => {} });
    const notesBefore = readFileSync(join(dir, "notes.txt"), "utf8");
    const run = await runSession(
      assignOf(dir, 1),
      writer("inside.txt=mine", `${join(dir, "stray.txt")}=oops`, `${join(dir, "src/a.ts")}=changed`),
      keeper,
    );
    expect(run.exit.failure_class).toBe("wrong_file");
    expect(run.exit.error?.message).toContain(
      `the CLI changed files outside its worktree, in ${dir}: src/a.ts, stray.txt`,
    );
    expect(
      run.lines.some((line) => line.startsWith("[agent] wrong_file: the CLI changed files outside its worktree")),
    ).toBe(true);
    // Not reverted: the user decides.
    expect(readFileSync(join(dir, "stray.txt"), "utf8")).toBe("oops\n");
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe(notesBefore);
  });

  it("does not blame a CLI that wrote only in its worktree, nor the checkout's changes from before", async () => {
    const dir = repo();
    const keeper = new WorktreeKeeper({ worktreesDir: temp("mesh-wt-dir-"), keepHours: 24, log: () => {} });
    const run = await runSession(assignOf(dir, 1), writer("inside.txt=mine", "src/a.ts=changed"), keeper);
    expect(run.exit.failure_class).toBeUndefined();
    expect(run.exit.diff_stat).toMatchObject({ files: 2 });
    expect(existsSync(join(dir, "inside.txt"))).toBe(false);
  });
});
