// One `npm start` per checkout (docs/command-line.md): two would share .mesh/ (the rooms' storage on
// disk, the agent's name, credential and worktrees), even on two ports, and so spoil each other.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Result } from "../protocol/result.ts";

export type LockHolder = { pid: number; url: string };

/** The lock is `held` by another running `npm start` (its pid and URL). */
export type LockRefusal = { code: "held"; holder: LockHolder; message: string };

/** Whether `pid` is a running `npm start` (where /proc says what runs; elsewhere, that it runs at all). */
function runsStart(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user; only ESRCH says it is gone.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    return /start\.(js|ts)\0/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return false;
  }
}

/** The lock file's pid and URL (a line each), or undefined when there is none or it is not one. */
function readLock(file: string): LockHolder | undefined {
  try {
    const match = /^(\d+)\n(\S*)/.exec(readFileSync(file, "utf8"));
    return match === null ? undefined : { pid: Number(match[1]), url: match[2] ?? "" };
  } catch {
    return undefined;
  }
}

const lockPid = (file: string): number | undefined => readLock(file)?.pid;

/** The running `npm start` that holds `file`, or undefined: no file, or one left by a process that is gone. */
export function lockHolder(file: string): LockHolder | undefined {
  const lock = readLock(file);
  return lock !== undefined && lock.pid !== process.pid && runsStart(lock.pid) ? lock : undefined;
}

/**
 * Takes the checkout's lock for this process, serving `url`; the holder instead when another running
 * `npm start` has it. A lock left by a process that is gone is taken over. The release removes the file
 * only while it is still this process's.
 */
export function takeLock(file: string, url: string): Result<{ release: () => void }, LockRefusal> {
  mkdirSync(dirname(file), { recursive: true });
  for (let tries = 0; tries < 3; tries++) {
    try {
      // Exclusive: of two starting at once, one creates it and the other finds it.
      writeFileSync(file, `${process.pid}\n${url}\n`, { flag: "wx" });
      const release = (): void => {
        if (lockPid(file) === process.pid) rmSync(file, { force: true });
      };
      return { ok: true, value: { release } };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = lockHolder(file);
      if (holder !== undefined) {
        const message = `npm start already runs from this checkout (pid ${holder.pid}, ${holder.url}); use it, or stop it first: two would share .mesh/ (the rooms' storage, the agent's name and worktrees)`;
        return { ok: false, error: { code: "held", holder, message } };
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take ${file}`);
}
