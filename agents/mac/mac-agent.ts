import { join } from "node:path";
import { type AgentLaunch, launchAgent } from "../runtime/agent-entry.ts";
import { PACKAGE_ROOT } from "../runtime/package-root.ts";
import { macSupervisor } from "./mac-limits.ts";

/** The Mac's executors when `--executors` is not given: the real CLIs, one per tier. */
export const MAC_EXECUTORS_FILE = join(PACKAGE_ROOT, "agents/mac/executors.json");

/** A Mac agent: children limited by ulimit and a memory watchdog (mac-limits.ts). */
export function runMacAgent(argv: readonly string[]): Promise<AgentLaunch> {
  return launchAgent(argv, {
    defaults: { kind: "mac", executorsPath: MAC_EXECUTORS_FILE },
    supervisor: (limits) => macSupervisor(limits),
  });
}
