import { join } from "node:path";
import { type AgentLaunch, launchAgent } from "../runtime/agent-entry.ts";
import { PACKAGE_ROOT } from "../runtime/package-root.ts";
import { linuxSupervisor } from "./linux-limits.ts";

/** The VM's executors when `--executors` is not given: the real CLIs, one per tier. */
export const VM_EXECUTORS_FILE = join(PACKAGE_ROOT, "agents/vm/executors.json");

/** A VM agent: children limited by a systemd scope or prlimit (linux-limits.ts). */
export function runVmAgent(argv: readonly string[]): Promise<AgentLaunch> {
  return launchAgent(argv, {
    defaults: { kind: "vm", executorsPath: VM_EXECUTORS_FILE },
    supervisor: (limits) => linuxSupervisor(limits),
  });
}
