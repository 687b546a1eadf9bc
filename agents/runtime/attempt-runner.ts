import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import type { ErrorBody, ExecutorSpec, FailureClass, LogStream, OutputLine } from "../../protocol/index.ts";
import { LineSplitter } from "./line-splitter.ts";
import type { ProcessSupervisor } from "./process-limits.ts";

export interface AttemptRunInput {
  executor: ExecutorSpec;
  prompt: string;
  cwd: string;
  supervisor?: ProcessSupervisor;
  /** Every output line, in order: stdout, stderr, and the runner's own `system` notes. */
  onLine: (line: OutputLine) => void;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** After the child exits, how long its pipes may stay open (held by leftovers) before those are killed. */
  drainMs?: number;
}

/** How an attempt ended: the fields of `attempt.exit` the runner knows. */
export interface AttemptResult {
  exit_code: number | null;
  signal: string | null;
  duration_ms: number;
  output?: string;
  error?: ErrorBody;
  failure_class?: FailureClass;
}

export interface RunningAttempt {
  /** The child's pid (also its process group id); undefined when it could not start. */
  readonly pid: number | undefined;
  readonly program: string;
  /** Stops the process group: SIGTERM, then SIGKILL after the grace. The first stop names the class. */
  stop(failureClass: FailureClass, note: string): void;
  /** Stops reading the child's pipes (it blocks on its next write once they fill) or reads them again. */
  throttle(paused: boolean): void;
  readonly done: Promise<AttemptResult>;
}

export const DEFAULT_KILL_GRACE_MS = 5000;
const DEFAULT_DRAIN_MS = 2000;
const TAIL_LINES = 100;
const TAIL_CHARS = 16_000;
/** The mesh's secret is the agent's, not the executor's: children never see it. */
const WITHHELD_ENV = ["MESH_AGENT_TOKEN"];

/** The executor's command with every `{prompt}` replaced by the prompt, each element staying one argument. */
export function commandFor(executor: ExecutorSpec, prompt: string): string[] {
  return executor.command.map((part) => part.split("{prompt}").join(prompt));
}

/** Starts the executor in its own process group and streams its lines until it and its pipes are done. */
export function runAttempt(input: AttemptRunInput): RunningAttempt {
  const command = commandFor(input.executor, input.prompt);
  const program = command[0] ?? "";
  const killGraceMs = input.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const startedAt = performance.now();
  const note = (text: string): void => input.onLine({ stream: "system", text, ts: Date.now() });

  const missingCwd = directoryProblem(input.cwd);
  if (missingCwd !== undefined) {
    note(`[agent] ${missingCwd}`);
    return notStarted(program, startedAt, missingCwd);
  }

  const env: NodeJS.ProcessEnv = { ...process.env, ...input.executor.env };
  for (const name of WITHHELD_ENV) delete env[name];
  let child: ChildProcess;
  try {
    child = spawn(program, command.slice(1), {
      ...input.supervisor?.spawnOptions(input.executor),
      cwd: input.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a stop reaches the CLI's children too.
      detached: true,
      shell: false,
    });
  } catch (cause) {
    const message = startFailure(program, input.cwd, cause);
    note(`[agent] ${message}`);
    return notStarted(program, startedAt, message);
  }
  const pid = child.pid;

  const tail: string[] = [];
  const splitterFor = (stream: LogStream): LineSplitter =>
    new LineSplitter((text) => {
      if (stream === "stdout") {
        tail.push(text);
        if (tail.length > TAIL_LINES) tail.shift();
      }
      input.onLine({ stream, text, ts: Date.now() });
    });
  const stdout = splitterFor("stdout");
  const stderr = splitterFor("stderr");
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stdout?.on("end", () => stdout.end());
  child.stderr?.on("end", () => stderr.end());

  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the whole group is already gone.
    }
  };

  let stopClass: FailureClass | undefined;
  let stopMessage: string | undefined;
  let settled = false;
  const timers: ReturnType<typeof setTimeout>[] = [];

  const stop = (failureClass: FailureClass, text: string): void => {
    if (stopClass !== undefined || settled) return;
    stopClass = failureClass;
    stopMessage = text;
    note(`[agent] ${text}`);
    killGroup("SIGTERM");
    timers.push(setTimeout(() => killGroup("SIGKILL"), killGraceMs));
  };

  const timeoutS = input.executor.timeout_s;
  timers.push(setTimeout(() => stop("timeout", `timed out after ${timeoutS}s; stopping its process group`), timeoutS * 1000));

  const done = new Promise<AttemptResult>((resolve) => {
    let spawnError: unknown;
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      stdout.end();
      stderr.end();
      // Whatever the CLI left running in its group ends with the attempt.
      killGroup("SIGKILL");
      const duration_ms = Math.round(performance.now() - startedAt);
      if (spawnError !== undefined) {
        const message = startFailure(program, input.cwd, spawnError);
        note(`[agent] ${message}`);
        resolve({ exit_code: null, signal: null, duration_ms, error: { code: "internal", message }, failure_class: "syntax_error" });
        return;
      }
      const output = tail.join("\n").slice(-TAIL_CHARS);
      resolve({
        exit_code: code,
        signal,
        duration_ms,
        ...(output.length > 0 ? { output } : {}),
        ...(stopClass === undefined ? {} : { failure_class: stopClass }),
        ...(stopClass === "timeout" || stopClass === "agent_lost" ? { error: { code: "internal", message: stopMessage ?? stopClass } } : {}),
      });
    };
    child.on("error", (cause) => {
      // Also emitted when a kill fails; only a child without a pid never started.
      if (pid !== undefined) return;
      spawnError = cause;
      settle(null, null);
    });
    child.on("exit", () => {
      // Leftover grandchildren may hold the pipes open: kill them, then stop waiting for the pipes.
      timers.push(
        setTimeout(() => {
          killGroup("SIGKILL");
          timers.push(
            setTimeout(() => {
              child.stdout?.destroy();
              child.stderr?.destroy();
            }, 1000),
          );
        }, input.drainMs ?? DEFAULT_DRAIN_MS),
      );
    });
    child.on("close", (code, signal) => settle(code, signal));
  });

  const throttle = (paused: boolean): void => {
    for (const pipe of [child.stdout, child.stderr]) {
      if (paused) pipe?.pause();
      else pipe?.resume();
    }
  };
  return { pid, program, stop, throttle, done };
}

function notStarted(program: string, startedAt: number, message: string): RunningAttempt {
  const result: AttemptResult = {
    exit_code: null,
    signal: null,
    duration_ms: Math.round(performance.now() - startedAt),
    error: { code: "internal", message },
    failure_class: "syntax_error",
  };
  return { pid: undefined, program, stop: () => {}, throttle: () => {}, done: Promise.resolve(result) };
}

function directoryProblem(cwd: string): string | undefined {
  try {
    return statSync(cwd).isDirectory() ? undefined : `the task's cwd '${cwd}' is not a directory on this agent`;
  } catch {
    return `the task's cwd '${cwd}' does not exist on this agent; give a directory that exists on the agent's machine`;
  }
}

function startFailure(program: string, cwd: string, cause: unknown): string {
  const code = cause instanceof Error && "code" in cause ? String(cause.code) : cause instanceof Error ? cause.message : String(cause);
  if (code === "ENOENT") {
    return `could not start '${program}' (ENOENT): it is not installed or not on the agent's PATH; fix the command in the executors file or install it`;
  }
  if (code === "EACCES") return `could not start '${program}' (EACCES): the file is not executable by the agent's user`;
  return `could not start '${program}' in '${cwd}' (${code}): check the command in the executors file`;
}
