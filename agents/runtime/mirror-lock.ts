// One writer per repository mirror at a time (docs/repositories.md "Locking"): an in-process queue
// per mirror, so two attempts of this agent never clone or fetch into it together, and a lock file
// beside it (`<mirror>.lock`, holding the pid) for another agent process sharing the state
// directory. A lock file whose process is gone is taken over; one held too long is waited for, then
// the caller gives up with a message naming the file.
import { open, readFile, rm } from "node:fs/promises";

/** How often a held lock file is tried again. */
const RETRY_MS = 200;

/** Per-process queues: the tail of the work done under each mirror's lock. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` holding the lock of `mirror` (a path): after every earlier holder in this process, and
 * once no other process holds `<mirror>.lock`. `waitMs` bounds the wait for another process.
 */
export async function withMirrorLock<T>(mirror: string, waitMs: number, work: () => Promise<T>): Promise<T> {
  const before = queues.get(mirror) ?? Promise.resolve();
  let release: () => void = () => {};
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = before.then(() => mine);
  queues.set(mirror, tail);
  try {
    await before.catch(() => undefined);
    const file = `${mirror}.lock`;
    await takeLockFile(file, waitMs);
    try {
      return await work();
    } finally {
      await rm(file, { force: true }).catch(() => undefined);
    }
  } finally {
    release();
    if (queues.get(mirror) === tail) queues.delete(mirror);
  }
}

/** Creates the lock file exclusively, taking over one whose pid is not a live process. */
async function takeLockFile(file: string, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  let emptySeen = false;
  for (;;) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
    // Empty: its writer is between creating and writing it; asked again after a pause, it is stale.
    const unwritten = !Number.isInteger(holder) || holder <= 0;
    if (unwritten && !emptySeen) {
      emptySeen = true;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      continue;
    }
    if (unwritten || !alive(holder)) {
      // Its writer died (or wrote nothing yet and died): the lock is stale.
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > until)
      throw new Error(
        `the mirror lock ${file} is held by process ${holder} for longer than ${Math.round(waitMs / 1000)} s; if no agent is fetching there, remove the file`,
      );
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
