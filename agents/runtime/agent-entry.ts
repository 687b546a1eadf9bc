import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { stderrLog } from "./agent-log.ts";
import { type AgentOptionDefaults, parseAgentOptions } from "./agent-options.ts";
import { RateTable, readRatesFile } from "./cost-rates.ts";
import { readExecutorsFile } from "./executors-file.ts";
import { sweepLastRun } from "./leftover-sweep.ts";
import { type AgentHandle, startAgent } from "./mesh-agent.ts";
import { type Preflight, preflightTiers } from "./tier-preflight.ts";

/** How often the executors file is checked for a change. */
const EXECUTORS_POLL_MS = 2000;

import type { LimitSettings, SupervisorResult } from "./process-limits.ts";

/** A started agent, or the exit code of a run that ended at once (help, bad flags, bad executors file). */
export type AgentLaunch = { status: "running"; agent: AgentHandle } | { status: "exited"; code: number };

export interface AgentEntry {
  defaults: AgentOptionDefaults & { kind: "vm" | "mac" };
  /** The platform's supervisor for the limits the flags ask for. */
  supervisor: (limits: LimitSettings) => SupervisorResult;
}

/**
 * What the vm and mac entry points share: read flags, executors and rates files, build the supervisor, check the tiers,
 * print what is wrong, start.
 */
export async function launchAgent(argv: readonly string[], entry: AgentEntry): Promise<AgentLaunch> {
  const parsed = parseAgentOptions(argv, process.env, entry.defaults);
  if (parsed.ok && parsed.value.action === "help") {
    process.stdout.write(parsed.value.usage);
    return { status: "exited", code: 0 };
  }
  const refuse = (message: string): AgentLaunch => {
    process.stderr.write(`mesh-agent: ${message}\n`);
    return { status: "exited", code: 2 };
  };
  if (!parsed.ok) return refuse(parsed.error.message);
  if (parsed.value.action !== "run") return { status: "exited", code: 0 };
  const { options } = parsed.value;
  const executors = readExecutorsFile(options.executorsPath);
  if (!executors.ok) return refuse(executors.error.message);
  let rates = new RateTable();
  if (options.ratesPath !== undefined) {
    const read = readRatesFile(options.ratesPath);
    if (!read.ok) return refuse(read.error.message);
    rates = read.value;
  }
  const supervisor = entry.supervisor(options.limits);
  if (!supervisor.ok) return refuse(supervisor.error.message);
  // Before anything runs: what a killed earlier run of this agent left running dies now (docs/containment.md).
  sweepLastRun(options.stateDir, stderrLog);
  // Only tiers whose CLI is there and runs are offered (docs/real-clis.md).
  const preflight = await preflightTiers(executors.value);
  logUnavailable(preflight);
  if (preflight.tiers.length === 0)
    return refuse(
      `no tier of ${options.executorsPath} can run on this machine (see above); install its CLIs or fix the file`,
    );
  try {
    const agent = startAgent(options, executors.value, {
      supervisor: supervisor.value,
      rates,
      log: stderrLog,
      preflight,
    });
    watchExecutorsFile(options.executorsPath, agent);
    return { status: "running", agent };
  } catch (cause) {
    return refuse(cause instanceof Error ? cause.message : String(cause));
  }
}

function logUnavailable(preflight: Preflight): void {
  for (const [tier, why] of Object.entries(preflight.unavailable)) stderrLog(`tier ${tier} is not offered: ${why}`);
}

/**
 * When the executors file changes, the agent reads and checks it again and says hello with what it
 * serves now; a file that no longer parses, or serves nothing, is reported and the old one kept.
 */
function watchExecutorsFile(path: string, agent: AgentHandle): void {
  let last = "";
  try {
    last = readFileSync(path, "utf8");
  } catch {
    // read again on change
  }
  watchFile(path, { interval: EXECUTORS_POLL_MS, persistent: false }, () => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return;
    }
    if (text === last) return;
    last = text;
    const read = readExecutorsFile(path);
    if (!read.ok)
      return stderrLog(
        `the executors file changed but cannot be used (${read.error.message}); keeping the previous one`,
      );
    void preflightTiers(read.value).then((preflight) => {
      logUnavailable(preflight);
      if (preflight.tiers.length === 0)
        return stderrLog(`the executors file changed but no tier of it can run here; keeping the previous one`);
      stderrLog(`the executors file changed: offering ${preflight.tiers.join(",")}`);
      agent.reload(read.value, preflight);
    });
  });
  agent.onStop(() => unwatchFile(path));
}
