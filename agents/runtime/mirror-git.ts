// Git for the agent's repository mirrors (docs/repositories.md): never a prompt (no terminal, no askpass,
// ssh in batch mode), never another repository's variables or the user's hooks; stderr streamed line by
// line (progress included), and the network calls (clones and fetches) ended when the agent stops.
import { type ChildProcess, spawn } from "node:child_process";
import { CALL_SETTINGS, gitEnvironment } from "./git-environment.ts";

const LOCAL_TIMEOUT_MS = 120_000;
/** Progress lines passed to the task's log: at most one per this many ms (the last one always). */
const PROGRESS_EVERY_MS = 250;

export type GitRun = { code: number; stderr: string; stdout: string };

/** Clones and fetches running now: a stopping agent ends them (`stopNetworkGit`) instead of waiting up to an hour. */
const networkChildren = new Set<ChildProcess>();

/**
 * Ends every clone and fetch this process runs (the agent is stopping); their attempts fail and are requeued as lost.
 */
export function stopNetworkGit(): void {
  for (const child of networkChildren) child.kill("SIGTERM");
}

function mirrorEnvironment(): NodeJS.ProcessEnv {
  const env = gitEnvironment({ GIT_ASKPASS: "", SSH_ASKPASS: "" });
  // ssh must not ask for a password or a host key either: it fails instead, and says why.
  if (env.GIT_SSH_COMMAND === undefined && env.GIT_SSH === undefined) env.GIT_SSH_COMMAND = "ssh -o BatchMode=yes";
  return env;
}

/** Runs git; stderr lines (progress included: `\r`-separated) go to `onLine` as they come. */
export function git(
  cwd: string,
  args: readonly string[],
  options: { timeoutMs?: number; onLine?: (line: string) => void } = {},
): Promise<GitRun> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let pending = "";
    const child = spawn("git", [...CALL_SETTINGS, ...args], {
      cwd,
      env: mirrorEnvironment(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? LOCAL_TIMEOUT_MS);
    if (options.onLine !== undefined) networkChildren.add(child);
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => {
      const text = pending + chunk.toString("utf8");
      const pieces = text.split(/[\r\n]/);
      pending = pieces.pop() ?? "";
      for (const piece of pieces) {
        if (piece.trim() === "") continue;
        stderr = `${stderr}${piece}\n`.slice(-64_000);
        options.onLine?.(piece);
      }
    });
    const finish = (code: number, extra = ""): void => {
      clearTimeout(timer);
      networkChildren.delete(child);
      if (pending.trim() !== "") options.onLine?.(pending);
      resolve({ code, stdout, stderr: `${stderr}${pending}${extra}` });
    };
    child.on("error", (error) => finish(1, error.message));
    child.on("close", (code, signal) =>
      finish(
        code ?? 1,
        signal === null
          ? ""
          : `git was stopped by ${signal} after ${Math.round((options.timeoutMs ?? LOCAL_TIMEOUT_MS) / 1000)} s`,
      ),
    );
  });
}

/** Progress lines at most a few per second, the last one always (so the log ends with where it got to). */
export function throttled(onProgress: (line: string) => void): { line: (text: string) => void; flush: () => void } {
  let last = 0;
  let held: string | undefined;
  return {
    line: (text) => {
      const now = Date.now();
      // Lines that are not a percentage count (a warning, a "Cloning into") always go.
      if (!/\d+%/.test(text) || now - last >= PROGRESS_EVERY_MS) {
        last = now;
        held = undefined;
        onProgress(text);
      } else held = text;
    },
    flush: () => {
      if (held !== undefined) onProgress(held);
      held = undefined;
    },
  };
}

/** git's own words on a failure: its fatal/error/remote lines, not its progress. */
export function gitSaid(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/\d+%/.test(l) && !/^Cloning into/.test(l));
  const telling = lines.filter((l) => /^(fatal|error|remote|ERROR|ssh|Permission|Host key)/i.test(l));
  return (telling.length > 0 ? telling : lines).slice(-4).join("; ").slice(0, 800) || "no output";
}

/** Runs git with `input` on its stdin, without the settings `git` adds (it only moves the mirror's own refs). */
export function gitWithInput(cwd: string, args: readonly string[], input: string): Promise<GitRun> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { cwd, env: mirrorEnvironment(), stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
    child.stdout.resume();
    child.on("error", (error) => resolve({ code: 1, stdout: "", stderr: error.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: "", stderr }));
    child.stdin.end(input);
  });
}
