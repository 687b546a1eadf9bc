// How a Mac agent limits its children, with what macOS offers:
//  - CPU seconds per process: `ulimit -t` in `sh -c '…; exec "$@"'` (enforced: SIGXCPU, then SIGKILL);
//  - memory: a watchdog over the run's process group (memory-watchdog.ts), since macOS does not
//    enforce RLIMIT_AS / RLIMIT_DATA;
//  - processes: `ulimit -u` counts every process of the user, so only with a dedicated `--run-as`
//    user; there is no per-run task limit on macOS.
// `--run-as` uses spawn's uid/gid (the agent must run as root).
// macOS has no parent-death signal: the children of a killed agent are killed by the agent's
// guard (runtime/attempt-guard.ts: the attempts' process groups, then by cookie through `ps -E`), and whatever a
// guard missed at the agent's next start (leftover-sweep.ts; docs/containment.md).

import type { Result } from "../../protocol/result.ts";
import type { LaunchPlan, LimitSettings, ProcessSupervisor, SupervisorResult } from "../runtime/process-limits.ts";
import { lookupRunAsUser, type RunAsRefusal, type RunAsUser, userEnv } from "../runtime/run-as-user.ts";
import { keepAwakeWhile } from "./keep-awake.ts";
import { watchGroupMemory } from "./memory-watchdog.ts";

/** Seconds between SIGXCPU (soft limit) and SIGKILL (hard). */
const CPU_GRACE_S = 5;

export function macSupervisor(
  limits: LimitSettings,
  lookupUser: (name: string) => Result<RunAsUser, RunAsRefusal> = lookupRunAsUser,
  keepAwake: (pid: number) => () => void = keepAwakeWhile,
): SupervisorResult {
  const found = limits.runAs === undefined ? undefined : lookupUser(limits.runAs);
  if (found?.ok === false) return found;
  const user = found?.value;
  const ulimits: string[] = [];
  if (limits.cpuS > 0) ulimits.push(`ulimit -H -t ${limits.cpuS + CPU_GRACE_S}`, `ulimit -S -t ${limits.cpuS}`);
  if (limits.maxProcs > 0 && user !== undefined) ulimits.push(`ulimit -u ${limits.maxProcs}`);
  const script = `${ulimits.join("; ")}; exec "$@"`;

  const launch = (command: readonly string[]): LaunchPlan => ({
    command: ulimits.length === 0 ? [...command] : ["/bin/sh", "-c", script, "sh", ...command],
    options: user === undefined ? {} : { uid: user.uid, gid: user.gid },
    env: user === undefined ? {} : userEnv(user),
  });
  const supervisor: ProcessSupervisor = {
    name: "mac",
    limits,
    description: describe(limits, user),
    launch,
    // Each run: its memory watched (when limited), and the Mac kept awake while it runs (caffeinate -w).
    watch: (pgid: number, breach: (note: string) => void) => {
      const unwatch = limits.memoryMb > 0 ? watchGroupMemory(pgid, limits.memoryMb, breach) : () => undefined;
      const release = keepAwake(pgid);
      return () => {
        unwatch();
        release();
      };
    },
  };
  return { ok: true, value: supervisor };
}

function describe(limits: LimitSettings, user: RunAsUser | undefined): string {
  const memory = limits.memoryMb > 0 ? `memory ${limits.memoryMb} MB per run (watched every 2 s)` : "memory: off";
  const cpu = limits.cpuS > 0 ? `${limits.cpuS} s CPU per process` : "CPU: off";
  const procs =
    limits.maxProcs === 0
      ? "off"
      : user !== undefined
        ? `${limits.maxProcs} processes of user ${user.name}`
        : "not enforced (needs --run-as on macOS)";
  return `limits by ulimit and a memory watchdog${user === undefined ? "" : ` as user ${user.name}`}: ${memory}; ${cpu}; processes ${procs}; a killed agent's children are killed by the agent's guard`;
}
