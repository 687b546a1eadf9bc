import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The one line of partykit dev 0.0.115 that chooses where workerd listens (its `onBundleUpdate` options). */
const HARD_CODED_HOST = 'host: "0.0.0.0",';
/** What it becomes: the address the launcher names (MESH_DEV_HOST), 127.0.0.1 unless told otherwise. */
const CHOSEN_HOST = 'host: process.env.MESH_DEV_HOST || "127.0.0.1",';
/**
 * partykit dev always attaches its devtools proxy to workerd's inspector (Runtime and Network enabled)
 * and, while no devtools window is open, keeps every message workerd sends it: memory that grows with
 * each request and socket and is never given back (docs/memory.md). Off unless MESH_DEV_INSPECTOR=1.
 */
const INSPECTOR_ALWAYS = "props.enableInspector ?? true";
const INSPECTOR_CHOSEN = 'props.enableInspector ?? process.env.MESH_DEV_INSPECTOR === "1"';

/**
 * partykit dev hard-codes workerd's listen address to 0.0.0.0 and has no option for it, while a local mesh must bind
 * 127.0.0.1 unless `--host` says otherwise (docs/settings.md). This writes, next to partykit's CLI (so its own relative
 * paths still hold), a copy with that one line changed (and its devtools proxy off, below), and returns its path; if
 * the line is not found exactly once (another partykit version), it returns undefined and the caller runs the original
 * and says so.
 */
export function partykitBinWithHost(partykitDist: string): string | undefined {
  const source = readFileSync(join(partykitDist, "bin.mjs"), "utf8");
  if (source.split(HARD_CODED_HOST).length !== 2) return undefined;
  const patched = join(partykitDist, "bin-mesh-host.mjs");
  // Written under a temporary name and renamed: servers starting at once never read a half-written file.
  const temporary = `${patched}.${process.pid}.${Date.now()}.tmp`;
  // Another partykit version without the inspector line keeps its inspector: only the host is required.
  writeFileSync(temporary, source.replace(HARD_CODED_HOST, CHOSEN_HOST).replace(INSPECTOR_ALWAYS, INSPECTOR_CHOSEN));
  renameSync(temporary, patched);
  return patched;
}
