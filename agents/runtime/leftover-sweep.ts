// What a killed agent left running dies at its next start, if it still runs then. A SIGKILLed agent
// runs no exit hook; its attempts' guard (attempt-guard.ts) kills their trees at once, and this is
// the fallback for what the guard could not (it was killed too, or could not start; docs/containment.md).
// Each run records its run id in the state directory (`--state-dir`; what the agent keeps between
// runs); the next start kills every process carrying a cookie of that run (attempt-cookie.ts), and
// nothing else. It is skipped while the recorded agent process still runs (two agents sharing one
// state directory), told by its pid and that pid's start time, so a reused pid is not taken for it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { AgentLog } from "./agent-log.ts";
import { AGENT_RUN_ID, cookieOfRun } from "./attempt-cookie.ts";
import { sweepCookieCarriersNow } from "./cookie-sweep.ts";

/** The run file's name in the state directory. */
export const RUN_FILE = "agent-run.json";

/** One run of an agent, as its run file records it. */
const RunRecord = z.object({
  /** The run id in its children's cookies. */
  run_id: z.string().regex(/^[0-9a-f]{6,64}$/),
  /** The agent process. */
  pid: z.number().int().positive(),
  /** When that process started, as the system tells it; absent where it could not be read. */
  pid_start: z.string().optional(),
  /** Epoch ms. */
  started_at: z.number(),
});
type RunRecord = z.infer<typeof RunRecord>;

/** What the start found of the last run. */
export type LeftoverSweep =
  | { status: "first_run" }
  /** The last run's agent is still alive: nothing killed. */
  | { status: "last_run_alive"; pid: number }
  | { status: "swept"; runId: string; killed: number[] };

/**
 * Kills what the last run of the agent with this state directory left running, then records this
 * run. Synchronous: it runs once at start, before any attempt could start.
 */
export function sweepLastRun(stateDir: string, log: AgentLog): LeftoverSweep {
  const file = join(stateDir, RUN_FILE);
  const last = readRunFile(file, log);
  const outcome = sweepAfter(last);
  if (outcome.status === "last_run_alive")
    log(`the last run of this agent (pid ${outcome.pid}, per ${file}) is still running: its processes are left alone`);
  if (outcome.status === "swept" && outcome.killed.length > 0) {
    log(
      `killed ${outcome.killed.length} process(es) the last run of this agent left running (pid ${outcome.killed.slice(0, 10).join(", ")}${outcome.killed.length > 10 ? ", …" : ""})`,
    );
  }
  const ours: RunRecord = {
    run_id: AGENT_RUN_ID,
    pid: process.pid,
    ...withStart(startOf(process.pid)),
    started_at: Date.now(),
  };
  try {
    mkdirSync(stateDir, { recursive: true });
    // Written beside and renamed over: a crash mid-write never leaves half a record.
    writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(ours)}\n`);
    renameSync(`${file}.${process.pid}.tmp`, file);
  } catch (cause) {
    log(
      `cannot record this run in ${file} (${cause instanceof Error ? cause.message : String(cause)}): what a crash of this run leaves will not be swept at the next start`,
    );
  }
  return outcome;
}

function sweepAfter(last: RunRecord | undefined): LeftoverSweep {
  if (last === undefined || last.run_id === AGENT_RUN_ID) return { status: "first_run" };
  if (last.pid !== process.pid && last.pid_start !== undefined && startOf(last.pid) === last.pid_start)
    return { status: "last_run_alive", pid: last.pid };
  return {
    status: "swept",
    runId: last.run_id,
    killed: sweepCookieCarriersNow((cookie) => cookieOfRun(cookie, last.run_id)),
  };
}

function readRunFile(file: string, log: AgentLog): RunRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = RunRecord.safeParse(json);
  if (!parsed.success) log(`${file} is not a run record; the last run's leftovers, if any, are not swept`);
  return parsed.success ? parsed.data : undefined;
}

function withStart(start: string | undefined): Pick<RunRecord, "pid_start"> {
  return start === undefined ? {} : { pid_start: start };
}

/**
 * When a process started, or undefined when it does not exist. Linux: field 22 of /proc/<pid>/stat
 * (clock ticks since boot); elsewhere `ps -o lstart=` (to the second, enough beside the pid).
 */
export function startOf(pid: number): string | undefined {
  if (existsSync("/proc/self/stat")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
      return undefined;
    }
  }
  try {
    const start = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    }).trim();
    return start === "" ? undefined : start;
  } catch {
    return undefined;
  }
}
