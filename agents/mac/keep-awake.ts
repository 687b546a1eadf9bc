// While a task runs, the Mac must not sleep (agents/mac/README.md): `caffeinate -i -w <pid>` holds an
// idle-sleep assertion until the CLI's process exits, and is stopped with the run.
import { type ChildProcess, spawn } from "node:child_process";

export type Spawner = (command: string, args: readonly string[]) => Pick<ChildProcess, "kill" | "on">;

const spawnDetached: Spawner = (command, args) => spawn(command, [...args], { stdio: "ignore" });

/** Keeps the Mac awake while `pid` runs; returns the stop. Elsewhere (no caffeinate) it does nothing. */
export function keepAwakeWhile(
  pid: number,
  platform: NodeJS.Platform = process.platform,
  run: Spawner = spawnDetached,
): () => void {
  if (platform !== "darwin") return () => undefined;
  const caffeinate = run("/usr/bin/caffeinate", ["-i", "-w", String(pid)]);
  // A machine without it (an old macOS, a locked-down one) still runs the task; it may only sleep.
  caffeinate.on("error", () => undefined);
  return () => void caffeinate.kill("SIGTERM");
}
