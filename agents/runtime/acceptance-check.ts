// "Validate before accepting": after the CLI succeeds, the files it changed are checked against
// `acceptance.allowed_paths`, then `acceptance.command` runs (`sh -c`, in the task's cwd, under the
// same limits as the CLI, with its output streamed like the CLI's). A change outside the allowed
// paths fails the attempt at once (`wrong_file`): the command is not run for a change that will be
// refused anyway. Where cwd is not a git work tree the changed files cannot be known: the paths
// check is skipped with a note, the command still runs.
import type { Acceptance, LogStream } from "../../protocol/index.ts";
import type { AttemptFacts } from "./failure-classes.ts";
import { LineTail } from "./line-tail.ts";
import { matchesAnyGlob } from "./path-globs.ts";
import { type RunningGroup, runProcessGroup } from "./process-group-run.ts";
import type { ProcessSupervisor } from "./process-limits.ts";

export interface AcceptanceInput {
  acceptance: Acceptance;
  cwd: string;
  /** Files the run changed, relative to cwd; undefined when cwd is not a git work tree. */
  changed: string[] | undefined;
  env: NodeJS.ProcessEnv;
  supervisor?: ProcessSupervisor;
  /** The command's own wall-clock limit (the executor's timeout_s). */
  timeoutS: number;
  killGraceMs: number;
  drainMs: number;
  onLine: (stream: LogStream, text: string) => void;
  /** The command is running: the attempt may stop or throttle it. */
  onStart: (group: RunningGroup) => void;
}

export type AcceptanceOutcome = NonNullable<AttemptFacts["acceptance"]>;

export async function checkAcceptance(input: AcceptanceInput): Promise<AcceptanceOutcome> {
  const { acceptance } = input;
  const note = (text: string): void => input.onLine("system", `[agent] acceptance: ${text}`);
  const allowed = acceptance.allowed_paths;
  let outside: string[] = [];
  if (allowed !== undefined) {
    if (input.changed === undefined) {
      note(`the task's cwd is not a git work tree, so the changed files are unknown; allowed_paths not checked`);
    } else {
      outside = input.changed.filter((path) => !matchesAnyGlob(path, allowed));
      note(
        outside.length === 0
          ? `every changed file is within allowed_paths (${allowed.join(", ")})`
          : `changed outside allowed_paths: ${outside.join(", ")}`,
      );
    }
  }
  const line = acceptance.command;
  if (line === undefined) return { outside };
  if (outside.length > 0) {
    note(`not running \`${line}\`: the change is refused already`);
    return { outside };
  }
  note(`$ ${line}`);
  // The evidence kept on the attempt (docs/work-isolation.md): the last 50 lines the command printed.
  const tail = new LineTail(50);
  const startedAt = performance.now();
  const group = runProcessGroup({
    command: ["sh", "-c", line],
    cwd: input.cwd,
    env: input.env,
    supervisor: input.supervisor,
    timeoutS: input.timeoutS,
    killGraceMs: input.killGraceMs,
    drainMs: input.drainMs,
    onStdout: (text) => {
      tail.push(text);
      input.onLine("stdout", text);
    },
    onStderr: (text) => {
      tail.push(text);
      input.onLine("stderr", text);
    },
    onNote: (text) => input.onLine("system", text),
  });
  input.onStart(group);
  const end = await group.done;
  if (end.startError !== undefined) note(end.startError);
  const timedOut = end.stopped?.as === "timeout";
  note(
    timedOut
      ? `did not finish within ${input.timeoutS}s`
      : end.signal !== null
        ? `killed by ${end.signal}`
        : `exited ${end.exitCode ?? "?"}`,
  );
  return {
    outside,
    command: {
      line,
      exitCode: end.exitCode,
      signal: end.signal,
      timedOut,
      tail: tail.text(20_000),
      durationMs: Math.round(performance.now() - startedAt),
    },
  };
}
