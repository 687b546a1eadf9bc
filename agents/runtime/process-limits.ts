import type { SpawnOptions } from "node:child_process";
import type { Result } from "../../protocol/index.ts";
import type { RunAsRefusal } from "./run-as-user.ts";

/**
 * Resource limits for every child an agent starts (the CLI and the acceptance command), from the
 * agent's flags (agents/README.md). 0 turns a limit off.
 */
export interface LimitSettings {
  /** Memory, in MB: per process (rlimit), or for the whole run where a cgroup holds it (systemd). */
  memoryMb: number;
  /** Processes and threads of the run (needs systemd, or a dedicated `runAs` user for the rlimit). */
  maxProcs: number;
  /** CPU seconds per process. */
  cpuS: number;
  /** Run children as this user (the agent must be root). */
  runAs?: string;
}

export const DEFAULT_LIMITS: LimitSettings = { memoryMb: 4096, maxProcs: 512, cpuS: 3600 };

/** How one command is started under the limits. */
export interface LaunchPlan {
  /**
   * The program and arguments to spawn: the command itself or the command behind a wrapper (prlimit, systemd-run, sh).
   */
  command: string[];
  /** Spawn options to add (uid/gid). The runtime fixes cwd, stdio and the process group. */
  options: Partial<SpawnOptions>;
  /** Environment to add under the executor's own (HOME and USER of a `runAs` user). */
  env: Record<string, string>;
}

/**
 * What differs by platform in starting a child: how it is limited and supervised. Wrappers must
 * exec the command in place (prlimit, systemd-run --scope and `exec` in sh do), so the spawned pid
 * stays the command's and its process group is the one the runtime stops.
 */
export interface ProcessSupervisor {
  /** Shown in the log, e.g. "vm". */
  readonly name: string;
  /** The limits in force (for messages that name the one a child hit). */
  readonly limits: LimitSettings;
  /** One line for the agent's log: which limits apply and how they are enforced. */
  readonly description: string;
  launch(command: readonly string[]): LaunchPlan;
  /**
   * Put before the attempt guard's `/bin/sh` (attempt-guard.ts): where children leave the agent's
   * cgroup (a systemd scope), the guard leaves it too, so the stop of the agent's service spares it.
   */
  readonly guardWrapper?: readonly string[];
  /**
   * A watch over a running process group (e.g. its memory on macOS); calls `breach` to have it stopped. Returns the
   * unwatch.
   */
  watch?(pgid: number, breach: (note: string) => void): () => void;
}

/** No limits: the child runs with the agent's own. */
export function plainSupervisor(name: string): ProcessSupervisor {
  return {
    name,
    limits: { memoryMb: 0, maxProcs: 0, cpuS: 0 },
    description: "no resource limits",
    launch: (command) => ({ command: [...command], options: {}, env: {} }),
  };
}

/** A supervisor, or why it cannot be built (an unknown `--run-as` user, …). */
export type SupervisorResult = Result<ProcessSupervisor, RunAsRefusal>;
