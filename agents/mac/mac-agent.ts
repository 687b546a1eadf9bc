import { launchAgent, type AgentLaunch } from "../runtime/agent-entry.ts";
import { plainSupervisor } from "../runtime/process-limits.ts";

/** A Mac agent: executors run with the agent's own limits for now (the limits issue adds them). */
export function runMacAgent(argv: readonly string[]): AgentLaunch {
  return launchAgent(argv, { defaults: { kind: "mac" }, supervisor: plainSupervisor("mac") });
}
