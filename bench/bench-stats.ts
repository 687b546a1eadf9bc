/** Percentile of a sample (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** Resident memory of a process group in MiB (ps), or NaN where ps cannot tell. */
export async function groupRssMiB(pgid: number): Promise<number> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve) => {
    execFile("ps", ["-eo", "pgid=,rss="], (error, stdout) => {
      if (error) return resolve(Number.NaN);
      let kib = 0;
      for (const line of stdout.split("\n")) {
        const [group, rss] = line.trim().split(/\s+/).map(Number);
        if (group === pgid) kib += rss ?? 0;
      }
      resolve(kib / 1024);
    });
  });
}

/** CPU seconds (user + system) used so far by every process of a process group (Linux /proc). */
export async function groupCpuSeconds(pgid: number): Promise<number> {
  const { readdir, readFile } = await import("node:fs/promises");
  const ticksPerSecond = 100;
  let ticks = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Fields after the command name (which may hold spaces): state is field 3, pgrp 5, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerSecond;
}
