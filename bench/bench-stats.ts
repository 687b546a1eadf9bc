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
