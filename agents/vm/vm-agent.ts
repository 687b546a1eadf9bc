import { launchAgent, type AgentLaunch } from "../runtime/agent-entry.ts";
import { plainSupervisor } from "../runtime/process-limits.ts";

/** A VM agent: executors run with the agent's own limits for now (the limits issue adds them). */
export function runVmAgent(argv: readonly string[]): AgentLaunch {
  return launchAgent(argv, { defaults: { kind: "vm" }, supervisor: plainSupervisor("vm") });
}
