import { fileURLToPath } from "node:url";
import { launchAgent, type AgentLaunch } from "../runtime/agent-entry.ts";
import { macSupervisor } from "./mac-limits.ts";

/** The Mac's executors when `--executors` is not given: the real CLIs, one per tier. */
export const MAC_EXECUTORS_FILE = fileURLToPath(new URL("./executors.json", import.meta.url));

/** A Mac agent: children limited by ulimit and a memory watchdog (mac-limits.ts). */
export function runMacAgent(argv: readonly string[]): AgentLaunch {
  return launchAgent(argv, { defaults: { kind: "mac", executorsPath: MAC_EXECUTORS_FILE }, supervisor: (limits) => macSupervisor(limits) });
}
