// The mesh server's resident memory, split by process: workerd (the rooms' isolate) and the rest of
// the dev server's process group (partykit's node, esbuild). Linux /proc; docs/memory.md.
import { readdir, readFile } from "node:fs/promises";

export type ServerRss = { workerdMiB: number; groupMiB: number };

async function statusField(pid: string, field: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match === null ? 0 : Number(match[1]) / 1024;
}

/** RSS of the dev server's workerd and of its whole process group, in MiB (NaN where /proc cannot tell). */
export async function serverRss(pgid: number): Promise<ServerRss> {
  let workerd = 0;
  let group = 0;
  let found = false;
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    found = true;
    const rss = await statusField(entry, "VmRSS");
    group += rss;
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (name === "workerd") workerd += rss;
  }
  return found ? { workerdMiB: workerd, groupMiB: group } : { workerdMiB: Number.NaN, groupMiB: Number.NaN };
}
