import { stderrLog } from "./agent-log.ts";
import { parseAgentOptions, type AgentOptionDefaults } from "./agent-options.ts";
import { readRatesFile, RateTable } from "./cost-rates.ts";
import { readExecutorsFile } from "./executors-file.ts";
import { sweepLastRun } from "./leftover-sweep.ts";
import { startAgent, type AgentHandle } from "./mesh-agent.ts";
import type { LimitSettings, SupervisorResult } from "./process-limits.ts";

/** A started agent, or the exit code of a run that ended at once (help, bad flags, bad executors file). */
export type AgentLaunch = { status: "running"; agent: AgentHandle } | { status: "exited"; code: number };

export interface AgentEntry {
  defaults: AgentOptionDefaults & { kind: "vm" | "mac" };
  /** The platform's supervisor for the limits the flags ask for. */
  supervisor: (limits: LimitSettings) => SupervisorResult;
}

/** What the vm and mac entry points share: read flags, executors and rates files, build the supervisor, print what is wrong, start. */
export function launchAgent(argv: readonly string[], entry: AgentEntry): AgentLaunch {
  const parsed = parseAgentOptions(argv, process.env, entry.defaults);
  if (parsed.status === "help") {
    process.stdout.write(parsed.usage);
    return { status: "exited", code: 0 };
  }
  const refuse = (message: string): AgentLaunch => {
    process.stderr.write(`mesh-agent: ${message}\n`);
    return { status: "exited", code: 2 };
  };
  if (parsed.status === "error") return refuse(parsed.message);
  const { options } = parsed;
  const executors = readExecutorsFile(options.executorsPath);
  if (!executors.ok) return refuse(executors.error);
  let rates = new RateTable();
  if (options.ratesPath !== undefined) {
    const read = readRatesFile(options.ratesPath);
    if (!read.ok) return refuse(read.error);
    rates = read.value;
  }
  const supervisor = entry.supervisor(options.limits);
  if (!supervisor.ok) return refuse(supervisor.error);
  // Before anything runs: what a killed earlier run of this agent left running dies now (issue 13).
  sweepLastRun(options.stateDir, stderrLog);
  try {
    return { status: "running", agent: startAgent(options, executors.value, { supervisor: supervisor.value, rates, log: stderrLog }) };
  } catch (cause) {
    return refuse(cause instanceof Error ? cause.message : String(cause));
  }
}
