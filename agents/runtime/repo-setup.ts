// A repository's own setup (docs/repositories.md "Setup"): an executable `.agent-mesh/setup` in a
// new worktree runs there before the CLI (dependencies, a `.env` from the agent's own secrets), with
// the CLI's environment rules, its output in the task's log. A non-zero exit or a timeout fails the
// attempt `setup_failed` with the exit code and the last lines; the CLI never starts.
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import type { LogStream, Result } from "../../protocol/index.ts";
import { environmentAt } from "./child-directory-env.ts";
import { LineTail } from "./line-tail.ts";
import { type RunningGroup, runProcessGroup } from "./process-group-run.ts";
import type { ProcessSupervisor } from "./process-limits.ts";

/** Where the script is, relative to the worktree's top. */
export const SETUP_PATH = join(".agent-mesh", "setup");
/** Lines of its output quoted in the failure. */
const TAIL_LINES = 20;

export type SetupInput = {
  /** The worktree's top folder; the script runs there. */
  worktree: string;
  /** The longest it may run: the executor's own timeout. */
  timeoutS: number;
  supervisor?: ProcessSupervisor;
  onLine: (stream: LogStream, text: string) => void;
  /** Called with the running script, so a cancel can stop it. */
  onStarted?: (group: RunningGroup) => void;
};

/**
 * Runs the worktree's setup if it has one: ok (ran and exited 0, or there is none: `ran` says which), or the failure's
 * message.
 */
export async function runRepoSetup(input: SetupInput): Promise<Result<{ ran: boolean }, string>> {
  const script = join(input.worktree, SETUP_PATH);
  const found = await stat(script).catch(() => undefined);
  if (found === undefined || !found.isFile()) return { ok: true, value: { ran: false } };
  const executable = await access(script, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!executable) {
    input.onLine("system", `[agent] ${SETUP_PATH} is not executable: not run (chmod +x it to run it before the CLI)`);
    return { ok: true, value: { ran: false } };
  }
  input.onLine("system", `[agent] running ${SETUP_PATH} in ${input.worktree}`);
  const tail = new LineTail(TAIL_LINES);
  const group = runProcessGroup({
    command: [script],
    cwd: input.worktree,
    env: environmentAt(process.env, input.worktree),
    ...(input.supervisor === undefined ? {} : { supervisor: input.supervisor }),
    timeoutS: input.timeoutS,
    killGraceMs: 5000,
    drainMs: 1000,
    onStdout: (line) => {
      tail.push(line);
      input.onLine("stdout", line);
    },
    onStderr: (line) => {
      tail.push(line);
      input.onLine("stderr", line);
    },
    onNote: (text) => input.onLine("system", text),
  });
  input.onStarted?.(group);
  const end = await group.done;
  if (end.startError !== undefined) return { ok: false, error: `${SETUP_PATH} could not start: ${end.startError}` };
  if (end.stopped !== undefined)
    return {
      ok: false,
      error: `${SETUP_PATH} was stopped (${end.stopped.note}); the CLI did not run. Its last lines:\n${tail.text(4000)}`,
    };
  if (end.exitCode === 0) {
    input.onLine("system", `[agent] ${SETUP_PATH} succeeded`);
    return { ok: true, value: { ran: true } };
  }
  const how = end.exitCode === null ? `was killed by ${end.signal ?? "a signal"}` : `exited ${end.exitCode}`;
  return {
    ok: false,
    error: `${SETUP_PATH} ${how}; the CLI did not run. Fix the script in the repository (it runs in each new worktree before the CLI). Its last lines:\n${tail.text(4000)}`,
  };
}
