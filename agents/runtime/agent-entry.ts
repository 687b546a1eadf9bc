import { stderrLog } from "./agent-log.ts";
import { parseAgentOptions, type AgentOptionDefaults } from "./agent-options.ts";
import { readExecutorsFile } from "./executors-file.ts";
import { startAgent, type AgentHandle } from "./mesh-agent.ts";
import type { ProcessSupervisor } from "./process-limits.ts";

/** A started agent, or the exit code of a run that ended at once (help, bad flags, bad executors file). */
export type AgentLaunch = { status: "running"; agent: AgentHandle } | { status: "exited"; code: number };

export interface AgentEntry {
  defaults: AgentOptionDefaults & { kind: "vm" | "mac" };
  supervisor: ProcessSupervisor;
}

/** What the vm and mac entry points share: read flags and executors file, print what is wrong, start. */
export function launchAgent(argv: readonly string[], entry: AgentEntry): AgentLaunch {
  const parsed = parseAgentOptions(argv, process.env, entry.defaults);
  if (parsed.status === "help") {
    process.stdout.write(parsed.usage);
    return { status: "exited", code: 0 };
  }
  if (parsed.status === "error") {
    process.stderr.write(`mesh-agent: ${parsed.message}\n`);
    return { status: "exited", code: 2 };
  }
  const executors = readExecutorsFile(parsed.options.executorsPath);
  if (!executors.ok) {
    process.stderr.write(`mesh-agent: ${executors.message}\n`);
    return { status: "exited", code: 2 };
  }
  try {
    return { status: "running", agent: startAgent(parsed.options, executors.file, { supervisor: entry.supervisor, log: stderrLog }) };
  } catch (cause) {
    process.stderr.write(`mesh-agent: ${cause instanceof Error ? cause.message : String(cause)}\n`);
    return { status: "exited", code: 2 };
  }
}
