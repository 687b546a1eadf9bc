import type { SpawnOptions } from "node:child_process";
import type { ExecutorSpec } from "../../protocol/index.ts";

/**
 * What differs by platform in starting an executor (resource limits arrive in a later issue).
 * The runtime fixes cwd, env, stdio and the process group; a supervisor may only add to them.
 */
export interface ProcessSupervisor {
  /** Shown in the log, e.g. "vm". */
  readonly name: string;
  spawnOptions(spec: ExecutorSpec): Partial<SpawnOptions>;
}

/** No limits yet: the executor runs with the agent's own. */
export function plainSupervisor(name: string): ProcessSupervisor {
  return { name, spawnOptions: () => ({}) };
}
