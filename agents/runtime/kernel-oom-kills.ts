// How the agent tells a memory kill from any other SIGKILL (docs/faults.md). Under a systemd
// scope's MemoryMax (or when the machine runs out), the kernel's OOM killer ends a process with a
// plain SIGKILL and says nothing to its parent. Linux counts those kills in /proc/vmstat `oom_kill`
// (since 4.13, memory cgroup kills included): a child that died by a SIGKILL the agent did not send,
// while that count went up, was killed for memory. The count is the whole machine's, so a kill of
// another process in the same moment could be mistaken for ours; a SIGKILL from elsewhere in that
// moment is rare enough. Elsewhere (macOS) there is no count, and the memory watchdog, which stops
// the run itself, says what happened.
import { readFileSync } from "node:fs";

/** OOM kills since boot; undefined where the kernel does not count them. */
export function kernelOomKills(): number | undefined {
  try {
    const count = /^oom_kill (\d+)$/m.exec(readFileSync("/proc/vmstat", "utf8"))?.[1];
    return count === undefined ? undefined : Number(count);
  } catch {
    return undefined;
  }
}
