// An agent's start kills what its last run left (docs/containment.md), from the run file in its state
// directory, and nothing else: not its own run's processes, not another run's, not a live agent's.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_RUN_ID, COOKIE_VARIABLE, newAttemptCookie } from "../../agents/runtime/attempt-cookie.ts";
import { RUN_FILE, startOf, sweepLastRun } from "../../agents/runtime/leftover-sweep.ts";
import { isRunning, killAll, waitUntil } from "./live-processes.ts";

const started: number[] = [];
afterEach(() => killAll(started.splice(0)));

function carrier(cookie: string): number {
  const child = spawn("setsid", ["sleep", "300"], {
    env: { ...process.env, [COOKIE_VARIABLE]: cookie },
    stdio: "ignore",
  });
  child.unref();
  if (child.pid === undefined) throw new Error("no pid");
  started.push(child.pid);
  return child.pid;
}

/** A state directory whose run file names `record`. */
function stateDir(record: object | string): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-state-"));
  writeFileSync(join(dir, RUN_FILE), typeof record === "string" ? record : JSON.stringify(record));
  return dir;
}

/** The pid of a process that has ended: an agent killed with SIGKILL. */
function deadPid(): number {
  const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  return Number(gone.stdout.trim());
}

describe.skipIf(!existsSync("/proc/self/environ"))("sweepLastRun", () => {
  it("kills every process carrying a cookie of the last run, leaves the rest, and records this run", async () => {
    const lastRun = "aaaaaaaaaaaa";
    const leftovers = [carrier(`${lastRun}/1`), carrier(`${lastRun}/7`)];
    const ours = carrier(newAttemptCookie());
    const another = carrier("bbbbbbbbbbbb/1");
    const dir = stateDir({ run_id: lastRun, pid: deadPid(), pid_start: "1", started_at: Date.now() - 60_000 });
    await waitUntil("the carriers to start", () => [...leftovers, ours, another].every(isRunning));
    const log: string[] = [];
    const outcome = sweepLastRun(dir, (line) => log.push(line));
    expect(outcome).toEqual({ status: "swept", runId: lastRun, killed: expect.arrayContaining(leftovers) });
    await waitUntil("the last run's leftovers to be gone", () => leftovers.every((pid) => !isRunning(pid)));
    expect(isRunning(ours)).toBe(true);
    expect(isRunning(another)).toBe(true);
    expect(log).toEqual([expect.stringMatching(/^killed 2 process\(es\) the last run of this agent left running/)]);
    expect(JSON.parse(readFileSync(join(dir, RUN_FILE), "utf8"))).toEqual({
      run_id: AGENT_RUN_ID,
      pid: process.pid,
      pid_start: startOf(process.pid),
      started_at: expect.any(Number),
    });
  });

  it("leaves the processes of a last run whose agent still runs (two agents on one state directory)", async () => {
    const lastRun = "cccccccccccc";
    const leftover = carrier(`${lastRun}/1`);
    const agent = spawn("sleep", ["300"], { stdio: "ignore" });
    started.push(agent.pid ?? 0);
    await waitUntil("the processes to start", () => isRunning(leftover) && startOf(agent.pid ?? 0) !== undefined);
    const dir = stateDir({
      run_id: lastRun,
      pid: agent.pid,
      pid_start: startOf(agent.pid ?? 0),
      started_at: Date.now(),
    });
    const log: string[] = [];
    expect(sweepLastRun(dir, (line) => log.push(line))).toEqual({ status: "last_run_alive", pid: agent.pid });
    expect(isRunning(leftover)).toBe(true);
    expect(log[0]).toContain("is still running: its processes are left alone");
  });

  it("does not take a reused pid for the last run's agent: its start time differs", async () => {
    const lastRun = "dddddddddddd";
    const leftover = carrier(`${lastRun}/2`);
    const stranger = spawn("sleep", ["300"], { stdio: "ignore" });
    started.push(stranger.pid ?? 0);
    await waitUntil("the carrier to start", () => isRunning(leftover));
    const dir = stateDir({ run_id: lastRun, pid: stranger.pid, pid_start: "12", started_at: Date.now() });
    expect(sweepLastRun(dir, () => {})).toMatchObject({ status: "swept", killed: [leftover] });
    await waitUntil("the leftover to be gone", () => !isRunning(leftover));
  });

  it("starts clean on a first run or an unreadable run file, and records this run", () => {
    const fresh = join(mkdtempSync(join(tmpdir(), "mesh-state-")), "new", "state");
    expect(sweepLastRun(fresh, () => {})).toEqual({ status: "first_run" });
    expect(JSON.parse(readFileSync(join(fresh, RUN_FILE), "utf8"))).toMatchObject({ run_id: AGENT_RUN_ID });
    const log: string[] = [];
    expect(sweepLastRun(stateDir("{not json"), (line) => log.push(line))).toEqual({ status: "first_run" });
    expect(log[0]).toContain("is not a run record");
  });
});
