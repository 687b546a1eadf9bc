// macOS has no cgroups, and it does not enforce RLIMIT_AS or RLIMIT_DATA (setrlimit accepts them,
// allocations go on), so the Mac agent watches memory itself: every couple of seconds it sums the
// resident memory of the run's process group (`ps -A -o pgid=,rss=`, the same on macOS and Linux)
// and has the group stopped once it is over the limit. A process that leaves the group escapes it.
import { execFile } from "node:child_process";

/** Resident memory of a process group, in KB; undefined when it cannot be read. */
export type GroupMemoryReader = (pgid: number) => Promise<number | undefined>;

export const POLL_MS = 2000;

export function watchGroupMemory(
  pgid: number,
  limitMb: number,
  breach: (note: string) => void,
  read: GroupMemoryReader = groupRssKb,
  pollMs: number = POLL_MS,
): () => void {
  let stopped = false;
  const check = async (): Promise<void> => {
    const kb = await read(pgid);
    if (stopped || kb === undefined) return;
    if (kb > limitMb * 1024) {
      stopped = true;
      clearInterval(timer);
      breach(
        `its processes use ${Math.round(kb / 1024)} MB, over the agent's memory limit of ${limitMb} MB (--memory-mb)`,
      );
    }
  };
  const timer = setInterval(() => void check(), pollMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

export function groupRssKb(pgid: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile("ps", ["-A", "-o", "pgid=,rss="], { timeout: 5000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error !== null) {
        resolve(undefined);
        return;
      }
      let total = 0;
      for (const line of stdout.split("\n")) {
        const [group, rss] = line.trim().split(/\s+/).map(Number);
        if (group === pgid && rss !== undefined && Number.isFinite(rss)) total += rss;
      }
      resolve(total);
    });
  });
}
