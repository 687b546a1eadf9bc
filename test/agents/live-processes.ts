// What the containment tests ask of the machine: is a process still running, and waiting until a
// condition holds. Read from /proc, so the tests that use it run on Linux only.
import { readFileSync } from "node:fs";

/** Running, and not a zombie waiting for its reaper (an orphan's reaper may take a moment). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export async function waitUntil(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** SIGKILL to each pid that still exists: a failed test leaves nothing behind. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    // 0 and negative numbers would name process groups (the test's own among them).
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}
