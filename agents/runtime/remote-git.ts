// Git calls that talk to a remote repository (docs/delivery.md): never a prompt (a push that needs a
// password fails at once with git's words instead of hanging the agent), never another repository's
// variables, and never a credential in what is logged or sent to the mesh.
import { execFile } from "node:child_process";
import { CALL_SETTINGS, gitEnvironment } from "./git-environment.ts";

/** A push or fetch over a slow link: long, but bounded so a stuck remote frees the agent. */
const REMOTE_TIMEOUT_MS = 300_000;
const MAX_OUTPUT = 16 * 1024 * 1024;

export type GitRun = { code: number; stdout: string; stderr: string; missing?: boolean };

/** The environment of a remote call: git's (git-environment.ts), and `gh` never prompts either. */
export function remoteEnvironment(): NodeJS.ProcessEnv {
  return gitEnvironment({ GIT_EDITOR: "true", GH_PROMPT_DISABLED: "1" });
}

/** Runs `program` (git unless told) in `cwd`; never throws. `missing` marks a program that is not installed. */
export function runProgram(
  program: string,
  cwd: string,
  args: readonly string[],
  timeoutMs = REMOTE_TIMEOUT_MS,
): Promise<GitRun> {
  return new Promise((resolve) => {
    try {
      execFile(
        program,
        [...args],
        { cwd, timeout: timeoutMs, maxBuffer: MAX_OUTPUT, env: remoteEnvironment() },
        (error, stdout, stderr) => {
          const missing = error !== null && (error as NodeJS.ErrnoException).code === "ENOENT";
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
          resolve({
            code,
            stdout: String(stdout),
            stderr: String(stderr) || (error?.message ?? ""),
            ...(missing ? { missing } : {}),
          });
        },
      );
    } catch (error) {
      resolve({ code: 1, stdout: "", stderr: error instanceof Error ? error.message : String(error) });
    }
  });
}

export function git(cwd: string, args: readonly string[]): Promise<GitRun> {
  return runProgram("git", cwd, [...CALL_SETTINGS, ...args]);
}

/** A URL with any `user:password@` replaced, for logs and messages. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}

/** What the remote said: its `remote:` lines and git's error lines, credentials removed, bounded. */
export function remoteWords(run: GitRun): string {
  const lines = `${run.stderr}\n${run.stdout}`
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !/^(To |Done$|Everything up-to-date$)/.test(line));
  return redactUrl(lines.join("\n")).slice(0, 2000);
}

/**
 * How `git push --porcelain` says each ref went: a line `<flag>\t<from>:<to>\t<summary>` per ref, the
 * flag `!` for a ref the remote rejected (git's documented porcelain format, not prose).
 */
export function rejectedRefs(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("!\t"))
    .map((line) => line.split("\t").slice(1).join(" "));
}

/** The remote's default branch (`HEAD` as `ls-remote --symref` names it), or undefined. */
export async function defaultBranchOf(cwd: string, url: string): Promise<string | undefined> {
  const listed = await git(cwd, ["ls-remote", "--symref", url, "HEAD"]);
  if (listed.code !== 0) return undefined;
  return listed.stdout.match(/^ref: refs\/heads\/(\S+)\tHEAD$/m)?.[1];
}
