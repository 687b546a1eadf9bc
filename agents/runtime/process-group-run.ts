import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import type { FailureClass } from "../../protocol/index.ts";
import { COOKIE_VARIABLE, newAttemptCookie } from "./attempt-cookie.ts";
import { attemptGuard } from "./attempt-guard.ts";
import { sweepCookieCarriers } from "./cookie-sweep.ts";
import { kernelOomKills } from "./kernel-oom-kills.ts";
import { LineSplitter } from "./line-splitter.ts";
import { signalGroup } from "./process-group-signal.ts";
import type { ProcessSupervisor } from "./process-limits.ts";

export interface GroupRunInput {
  command: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  supervisor?: ProcessSupervisor;
  /** Wall-clock limit; past it the group is stopped as a `timeout`. */
  timeoutS: number;
  killGraceMs: number;
  drainMs: number;
  /** Longest stdout line passed whole; longer ones come in pieces (structured formats need whole JSON lines). */
  maxStdoutLineChars?: number;
  onStdout: (line: string) => void;
  onStderr: (line: string) => void;
  /** The runner's own notes (a stop and why). */
  onNote: (text: string) => void;
}

/** How a child ended. */
export interface GroupEnd {
  exitCode: number | null;
  signal: string | null;
  /** The group was stopped by the runner: why. */
  stopped?: { as: FailureClass; note: string };
  /** It could not be started: why (ENOENT, EACCES, …). */
  startError?: string;
  /**
   * A SIGKILL the runner did not send, while the kernel's OOM killer killed (kernel-oom-kills.ts): a memory limit ended
   * it.
   */
  oomKilled?: true;
}

export interface RunningGroup {
  /** The child's pid, also its process group id; undefined when it could not start. */
  readonly pid: number | undefined;
  /**
   * SIGTERM to the group, SIGKILL after the grace (the run's own unless given). The first stop names the
   * class and is noted; true when this call was that stop.
   */
  stop(as: FailureClass, note: string, killGraceMs?: number): boolean;
  /** Stops reading the child's pipes (it blocks on its next write once they fill) or reads them again. */
  throttle(paused: boolean): void;
  readonly done: Promise<GroupEnd>;
}

/**
 * Starts one command in its own process group under the supervisor, and streams its lines until it
 * and its pipes are done. Its whole tree ends with it: the group is killed, and so is every process
 * carrying its cookie (attempt-cookie.ts), which finds the ones that left the group. A guard
 * (attempt-guard.ts) does the same if the agent dies first (docs/containment.md).
 */
export function runProcessGroup(input: GroupRunInput): RunningGroup {
  // Checked before any wrapper runs: behind prlimit or systemd-run a missing program is only an exit code.
  const missing = missingProgram(input.command[0] ?? "", input.cwd, input.env.PATH);
  if (missing !== undefined) return notStarted(startFailure(input.command[0] ?? "", input.cwd, missing));
  const plan = input.supervisor?.launch(input.command) ?? { command: [...input.command], options: {}, env: {} };
  const program = plan.command[0] ?? "";
  const cookie = newAttemptCookie();
  const oomKillsBefore = kernelOomKills();
  // Running first, so the cookie is swept even if the agent dies while the command starts.
  attemptGuard.ensure(input.supervisor?.guardWrapper);
  let child: ChildProcess;
  try {
    child = spawn(program, plan.command.slice(1), {
      ...plan.options,
      cwd: input.cwd,
      env: { ...plan.env, ...input.env, [COOKIE_VARIABLE]: cookie },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a stop reaches the command's children too.
      detached: true,
      shell: false,
    });
  } catch (cause) {
    return notStarted(startFailure(input.command[0] ?? "", input.cwd, cause));
  }
  const pid = child.pid;
  if (pid !== undefined) attemptGuard.add(pid);

  const stdout = new LineSplitter(input.onStdout, input.maxStdoutLineChars);
  const stderr = new LineSplitter(input.onStderr);
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stdout?.on("end", () => stdout.end());
  child.stderr?.on("end", () => stderr.end());

  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    // Only ESRCH means "already gone"; anything else is told (docs/containment.md).
    const sent = signalGroup(pid, signal);
    if (!sent.ok) input.onNote(`[agent] ${sent.error.message}`);
  };
  /** Kills what left the group: `setsid` and detached children keep the cookie. */
  const killEscaped = (): Promise<number[]> => sweepCookieCarriers((found) => found === cookie);

  let stopped: GroupEnd["stopped"];
  let settled = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const stop = (as: FailureClass, note: string, killGraceMs = input.killGraceMs): boolean => {
    if (stopped !== undefined || settled) return false;
    stopped = { as, note };
    input.onNote(`[agent] ${note}`);
    killGroup("SIGTERM");
    timers.push(setTimeout(() => killGroup("SIGKILL"), killGraceMs));
    return true;
  };
  timers.push(
    setTimeout(
      () => stop("timeout", `timed out after ${input.timeoutS}s; stopping its process group`),
      input.timeoutS * 1000,
    ),
  );
  // A limit's watchdog names the limit in its note; the class is infrastructure, so the task does not climb tiers.
  const unwatch =
    pid === undefined
      ? undefined
      : input.supervisor?.watch?.(pid, (note) => stop("resource_limit", `${note}; stopping its process group`));

  const done = new Promise<GroupEnd>((resolve) => {
    let spawnError: unknown;
    const settle = async (code: number | null, signal: NodeJS.Signals | null): Promise<void> => {
      if (settled) return;
      settled = true;
      unwatch?.();
      for (const timer of timers) clearTimeout(timer);
      stdout.end();
      stderr.end();
      if (spawnError !== undefined) {
        resolve({
          exitCode: null,
          signal: null,
          startError: startFailure(input.command[0] ?? "", input.cwd, spawnError),
        });
        return;
      }
      // Whatever the command left running ends with it: its group, then what escaped the group.
      killGroup("SIGKILL");
      const escaped = await killEscaped();
      // Swept by the agent itself: the group is no longer the guard's to kill.
      if (pid !== undefined) attemptGuard.remove(pid);
      if (escaped.length > 0)
        input.onNote(
          `[agent] killed ${escaped.length} process(es) it left running, found by its cookie (pid ${escaped.slice(0, 10).join(", ")}${escaped.length > 10 ? ", …" : ""})`,
        );
      const oomKilled =
        signal === "SIGKILL" &&
        stopped === undefined &&
        oomKillsBefore !== undefined &&
        (kernelOomKills() ?? oomKillsBefore) > oomKillsBefore;
      resolve({
        exitCode: code,
        signal,
        ...(stopped === undefined ? {} : { stopped }),
        ...(oomKilled ? { oomKilled: true as const } : {}),
      });
    };
    child.on("error", (cause) => {
      // Also emitted when a kill fails; only a child without a pid never started.
      if (pid !== undefined) return;
      spawnError = cause;
      void settle(null, null);
    });
    child.on("exit", () => {
      // Leftover grandchildren may hold the pipes open: kill them, then stop waiting for the pipes.
      timers.push(
        setTimeout(() => {
          killGroup("SIGKILL");
          void killEscaped();
          timers.push(
            setTimeout(() => {
              child.stdout?.destroy();
              child.stderr?.destroy();
            }, 1000),
          );
        }, input.drainMs),
      );
    });
    child.on("close", (code, signal) => void settle(code, signal));
  });

  const throttle = (paused: boolean): void => {
    for (const pipe of [child.stdout, child.stderr]) {
      if (paused) pipe?.pause();
      else pipe?.resume();
    }
  };
  return { pid, stop, throttle, done };
}

function notStarted(message: string): RunningGroup {
  return {
    pid: undefined,
    stop: () => false,
    throttle: () => {},
    done: Promise.resolve({ exitCode: null, signal: null, startError: message }),
  };
}

/** ENOENT or EACCES when `program` cannot be run (searched on PATH when it names no directory). */
function missingProgram(program: string, cwd: string, path: string | undefined): { code: string } | undefined {
  const candidates = program.includes("/")
    ? [resolve(cwd, program)]
    : (path ?? "")
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => join(dir, program));
  let found = false;
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      found = true;
      accessSync(candidate, constants.X_OK);
      return undefined;
    } catch {
      // not here, or not executable: try the next one
    }
  }
  return { code: found ? "EACCES" : "ENOENT" };
}

function startFailure(program: string, cwd: string, cause: unknown): string {
  const code =
    typeof cause === "object" && cause !== null && "code" in cause
      ? String(cause.code)
      : cause instanceof Error
        ? cause.message
        : String(cause);
  if (code === "ENOENT") {
    return `could not start '${program}' (ENOENT): it is not installed or not on the agent's PATH; fix the command in the executors file or install it`;
  }
  if (code === "EACCES") return `could not start '${program}' (EACCES): the file is not executable by the agent's user`;
  return `could not start '${program}' in '${cwd}' (${code}): check the command in the executors file`;
}
