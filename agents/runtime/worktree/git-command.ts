// How the worktree engine runs git (issue 12; INTERFACES.md "Work isolation and results"): no shell,
// a timeout, no prompts, and an environment that cannot point git at another repository. A failed
// git is an outcome with its exit code and stderr, never a throw: the callers turn it into a Result.
import { execFile } from "node:child_process";

/** Long enough for `worktree add` of a large repository on a slow disk; a hung git still ends. */
export const GIT_TIMEOUT_MS = 120_000;
/** Output read whole (status, name lists); diffs are streamed and capped instead (attempt-diff.ts). */
const MAX_GIT_OUTPUT = 64 * 1024 * 1024;
/** Exit code reported when git could not be started at all (not installed, cwd gone). */
export const GIT_NOT_STARTED = -1;

export type GitOutcome = { code: number; stdout: string; stderr: string };

/**
 * Variables that would make git act on another repository, index or object store than the one
 * named by cwd (set, say, when the agent is started from a git hook).
 */
const REPOSITORY_VARIABLES = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX"];

/**
 * Settings every call carries. safe.directory: the agent may run as another user than the
 * repository's owner and was asked to work there. hooksPath: the user's hooks (post-checkout,
 * post-commit, …) never run for the mesh's own worktree, commit and merge steps.
 */
const CALL_SETTINGS = ["-c", "safe.directory=*", "-c", "core.hooksPath=/dev/null"];

export type GitCallOptions = {
  /** Only reads: no optional locks (no index refresh), so a user's concurrent git never collides. */
  readOnly?: boolean;
  /** Extra environment, e.g. the mesh's identity for a commit. */
  env?: Record<string, string>;
};

/** The environment git runs with: the agent's, without repository overrides, never prompting. */
export function gitEnvironment(options: GitCallOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", ...options.env };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  if (options.readOnly === true) env.GIT_OPTIONAL_LOCKS = "0";
  return env;
}

/** The full argument list of a call, with the settings every call carries. */
export function gitArguments(args: readonly string[]): string[] {
  return [...CALL_SETTINGS, ...args];
}

/** Runs `git <args>` in cwd; resolves with its exit code and output whatever happens. */
export function runGit(cwd: string, args: readonly string[], options: GitCallOptions = {}): Promise<GitOutcome> {
  return new Promise((resolve) => {
    try {
      execFile("git", gitArguments(args), { cwd, env: gitEnvironment(options), timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_GIT_OUTPUT }, (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        // A numeric code is git's exit status; a string one (ENOENT, …) means git never ran.
        const code = typeof error.code === "number" ? error.code : GIT_NOT_STARTED;
        resolve({ code, stdout, stderr: stderr.trim() === "" ? error.message : stderr });
      });
    } catch (error) {
      // Some spawn failures (an invalid cwd on some platforms) throw instead of calling back.
      resolve({ code: GIT_NOT_STARTED, stdout: "", stderr: error instanceof Error ? error.message : String(error) });
    }
  });
}

/** The first line of git's complaint, for an error message a person reads. */
export function gitComplaint(outcome: GitOutcome): string {
  const lines = outcome.stderr.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  return (lines.find((line) => line.startsWith("fatal:") || line.startsWith("error:")) ?? lines[0] ?? `git exited with ${outcome.code}`).slice(0, 500);
}

/** The mesh's identity as author and committer, by environment so the user's config is neither needed nor changed. */
export function meshIdentity(tier: string): Record<string, string> {
  const name = `agent-mesh ${tier}`;
  const email = "agent-mesh@localhost";
  return { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
}
