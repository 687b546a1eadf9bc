// How a Linux agent limits its children, decided once at start:
//  1. systemd (its manager runs: /run/systemd/system exists, and a test scope starts): each child in a
//     transient scope, `systemd-run --scope -p MemoryMax= -p TasksMax=`, a cgroup holding the whole
//     run's memory and task count; CPU seconds per process by prlimit inside it, where present.
//  2. prlimit (util-linux): `prlimit --data= --cpu= [--nproc=] -- cmd`, rlimits per process.
//     RLIMIT_DATA, not RLIMIT_AS: Node, Bun and V8 reserve far more address space than they use, so
//     an address-space limit breaks them; DATA counts the writable memory they really take.
//     RLIMIT_NPROC counts every process of the user (and root is exempt): it is applied only with a
//     dedicated `--run-as` user.
//  3. neither: no limits, said in the log.
// With `--run-as`: systemd-run's own `--uid/--gid` in a scope; otherwise `setpriv --reuid --regid
// --init-groups`, which drops to the user with that user's groups (not root's); without setpriv,
// spawn's uid/gid (libuv then clears the supplementary groups: the user gets none of its own).
// The child dies with the agent, even a SIGKILLed one: `setpriv --pdeathsig KILL`
// (util-linux ≥ 2.33) has the kernel send it SIGKILL when the agent ends. It wraps the command last,
// after every other wrapper: the kernel clears the setting when the uid changes (prctl(2)), and the
// wrappers before it exec in place, so the agent stays the parent. It reaches the CLI only; what the
// CLI started is killed by the agent's guard (runtime/attempt-guard.ts, docs/containment.md). In a
// systemd scope the children are out of the agent's cgroup, so a stop of the agent's service would
// not reach them but would kill a guard left in it: the guard gets a scope of its own too.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { Result } from "../../protocol/result.ts";
import type { LaunchPlan, LimitSettings, ProcessSupervisor, SupervisorResult } from "../runtime/process-limits.ts";
import { lookupRunAsUser, type RunAsRefusal, type RunAsUser, userEnv } from "../runtime/run-as-user.ts";

/** What the machine offers; replaced in tests. */
export interface LinuxProbe {
  isRoot(): boolean;
  /** A transient scope can be started (as root, or in the user's manager with `--user`). */
  systemdScope(user: boolean): boolean;
  hasCommand(name: "prlimit" | "setpriv"): boolean;
  /** `setpriv --pdeathsig` works (util-linux 2.33 and later). */
  parentDeathSignal(): boolean;
  lookupUser(name: string): Result<RunAsUser, RunAsRefusal>;
}

export type LinuxLimiter = "systemd" | "prlimit" | "none";

/** Seconds between SIGXCPU (soft CPU limit, a signal the classifier names) and SIGKILL (hard). */
const CPU_GRACE_S = 5;

export function linuxSupervisor(limits: LimitSettings, probe: LinuxProbe = machineProbe): SupervisorResult {
  const found = limits.runAs === undefined ? undefined : probe.lookupUser(limits.runAs);
  if (found?.ok === false) return found;
  const user = found?.value;
  const root = probe.isRoot();
  const limiter: LinuxLimiter = probe.systemdScope(!root)
    ? "systemd"
    : probe.hasCommand("prlimit")
      ? "prlimit"
      : "none";
  const hasPrlimit = limiter !== "none" && probe.hasCommand("prlimit");
  const setpriv = user !== undefined && limiter !== "systemd" && probe.hasCommand("setpriv");

  const scope: string[] = [];
  const bareScope = ["systemd-run", ...(root ? [] : ["--user"]), "--scope", "--quiet", "--collect"];
  if (limiter === "systemd") {
    scope.push(...bareScope);
    if (user !== undefined) scope.push(`--uid=${user.uid}`, `--gid=${user.gid}`);
    if (limits.memoryMb > 0) scope.push("-p", `MemoryMax=${limits.memoryMb}M`, "-p", "MemorySwapMax=0");
    if (limits.maxProcs > 0) scope.push("-p", `TasksMax=${limits.maxProcs}`);
    scope.push("--");
  }
  const drop =
    setpriv && user !== undefined
      ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--"]
      : [];
  const rlimits: string[] = [];
  if (hasPrlimit) {
    if (limiter === "prlimit" && limits.memoryMb > 0) rlimits.push(`--data=${limits.memoryMb * 1024 * 1024}`);
    if (limits.cpuS > 0) rlimits.push(`--cpu=${limits.cpuS}:${limits.cpuS + CPU_GRACE_S}`);
    if (limiter === "prlimit" && limits.maxProcs > 0 && user !== undefined) rlimits.push(`--nproc=${limits.maxProcs}`);
  }
  const prlimit = rlimits.length > 0 ? ["prlimit", ...rlimits, "--"] : [];
  const diesWithAgent = probe.parentDeathSignal();
  const deathSignal = diesWithAgent ? ["setpriv", "--pdeathsig", "KILL", "--"] : [];
  const prefix = [...scope, ...drop, ...prlimit, ...deathSignal];

  const launch = (command: readonly string[]): LaunchPlan => ({
    command: [...prefix, ...command],
    options: user !== undefined && !setpriv && limiter !== "systemd" ? { uid: user.uid, gid: user.gid } : {},
    env: user === undefined ? {} : userEnv(user),
  });
  const description = `${describe(limiter, limits, user, hasPrlimit)}; ${diesWithAgent ? "each child dies with the agent (setpriv --pdeathsig), what it started by the agent's guard" : "a killed agent's children are killed by the agent's guard (no setpriv --pdeathsig here)"}`;
  const guardWrapper = limiter === "systemd" ? [...bareScope, "--"] : [];
  return { ok: true, value: { name: "vm", limits, description, launch, guardWrapper } satisfies ProcessSupervisor };
}

function describe(
  limiter: LinuxLimiter,
  limits: LimitSettings,
  user: RunAsUser | undefined,
  hasPrlimit: boolean,
): string {
  const as = user === undefined ? "" : ` as user ${user.name}`;
  const off = (value: number, text: string): string => (value > 0 ? text : "off");
  if (limiter === "none") return `no resource limits (no systemd scope and no prlimit on this machine)${as}`;
  const cpu =
    limits.cpuS > 0 ? (hasPrlimit ? `${limits.cpuS} s CPU per process` : "CPU: not enforced (no prlimit)") : "CPU: off";
  if (limiter === "systemd") {
    return `limits by systemd scope${as}: memory ${off(limits.memoryMb, `${limits.memoryMb} MB`)} and ${off(limits.maxProcs, `${limits.maxProcs} tasks`)} per run; ${cpu}`;
  }
  const procs =
    limits.maxProcs === 0
      ? "off"
      : user !== undefined
        ? `${limits.maxProcs} processes of user ${user.name}`
        : "not enforced (RLIMIT_NPROC needs --run-as: it counts all the user's processes, and root is exempt)";
  return `limits by prlimit${as}: memory ${off(limits.memoryMb, `${limits.memoryMb} MB per process (RLIMIT_DATA)`)}; ${cpu}; processes ${procs}`;
}

const machineProbe: LinuxProbe = {
  isRoot: () => process.getuid?.() === 0,
  systemdScope(user) {
    if (!existsSync("/run/systemd/system")) return false;
    const probe = spawnSync(
      "systemd-run",
      [...(user ? ["--user"] : []), "--scope", "--quiet", "--collect", "-p", "TasksMax=16", "--", "true"],
      { stdio: "ignore", timeout: 10_000 },
    );
    return probe.status === 0;
  },
  hasCommand(name) {
    return spawnSync(name, ["--version"], { stdio: "ignore", timeout: 5000 }).status === 0;
  },
  parentDeathSignal: () =>
    spawnSync("setpriv", ["--pdeathsig", "KILL", "--", "true"], { stdio: "ignore", timeout: 5000 }).status === 0,
  lookupUser: (name) => lookupRunAsUser(name),
};
