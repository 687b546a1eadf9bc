// The agent process's V8 heap policy (docs/memory.md, "The agent"). The build injects this module
// ahead of everything else in dist/mesh-agent.js, so every way an agent starts (the `mesh-agent`
// bin, `npm run agent`, the launcher, the systemd and launchd services) gets it without a flag on
// the command line, and before the first schema is built.
import { createRequire } from "node:module";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * - `--semi-space-growth-factor=1`: the young generation stays at its first size (1 MiB per half)
 *   instead of growing to 16 MiB per half under a burst of work and keeping it; the flag is read
 *   when the young generation would grow, so setting it here takes effect (`--max-semi-space-size`
 *   does not: it is read once, at start).
 * - `--no-opt`: no optimizing compiler. Building the protocol's schemas at load made it compile,
 *   which touched ~4 MiB of node's own compiler code and kept the compiled code; the agent's hot
 *   path (pipe reads, line splitting, JSON, socket writes) runs in node's built-ins either way, and
 *   the bench's stream rows measured no throughput difference. Only while `ws` masks the agent's
 *   frames in native code (the optional `bufferutil`): its JavaScript fallback, unoptimized, cost
 *   the agent 2.5× the CPU per streamed line.
 */
const YOUNG_GENERATION_FLAG = "--semi-space-growth-factor=1";
const NO_OPTIMIZER_FLAG = "--no-opt";

/** How often the heap is looked at for a quiet spell. */
const IDLE_CHECK_MS = 2_000;
/** Less than this allocated between two checks is a quiet agent. */
const QUIET_BYTES = 256 * 1024;
/** A full collection is worth it once the heap holds this much more than after the last one. */
const GROWTH_BYTES = 1024 * 1024;

type CollectGarbage = () => void;

/** Whether `ws` will mask frames with `bufferutil` (it does unless told not to or it cannot load). */
function nativeMasking(): boolean {
  if (process.env.WS_NO_BUFFER_UTIL !== undefined) return false;
  try {
    createRequire(import.meta.url)("bufferutil");
    return true;
  } catch {
    return false;
  }
}

/** The flags this process runs with (docs/memory.md). */
const AGENT_V8_FLAGS: readonly string[] = nativeMasking()
  ? [YOUNG_GENERATION_FLAG, NO_OPTIMIZER_FLAG]
  : [YOUNG_GENERATION_FLAG];

for (const flag of AGENT_V8_FLAGS) setFlagsFromString(flag);

/**
 * V8 gives memory back by itself only after ~8 s of low allocation (its memory reducer); an agent
 * between tasks is quiet sooner than that. When the heap has grown since the last full collection
 * and stayed still for one check, the agent collects and compacts it (a few milliseconds for its
 * ~12 MiB heap).
 * `gc` is exposed for this one function and hidden again from the process's own code.
 */
function startIdleCollection(): void {
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as CollectGarbage;
  setFlagsFromString("--no-expose-gc");
  let previous = getHeapStatistics().used_heap_size;
  let afterCollection = previous;
  const timer = setInterval(() => {
    const used = getHeapStatistics().used_heap_size;
    const quiet = Math.abs(used - previous) < QUIET_BYTES;
    previous = used;
    if (!quiet || used - afterCollection < GROWTH_BYTES) return;
    // Compacting moves the survivors together so that emptied pages go back to the system; a
    // plain full collection frees the objects but keeps the pages (~2 MiB more, measured).
    setFlagsFromString("--compact-on-every-full-gc");
    collect();
    setFlagsFromString("--no-compact-on-every-full-gc");
    afterCollection = previous = getHeapStatistics().used_heap_size;
  }, IDLE_CHECK_MS);
  timer.unref();
}

startIdleCollection();
