// Git on the agent's own disk (docs/work-isolation.md): one call with the mesh's settings, in a clean
// environment, never a prompt, an editor or the user's hooks; the mesh's identity for its own commits.
// Git that talks to a remote repository is remote-git.ts's.
import { execFile } from "node:child_process";
import { CALL_SETTINGS, gitEnvironment } from "./git-environment.ts";

const GIT_TIMEOUT_MS = 120_000;
/** A diff is read whole up to this many bytes before it is cut to the stored cap. */
const MAX_GIT_OUTPUT = 256 * 1024 * 1024;
/** Who commits and merges for the mesh; the user's git config is neither needed nor changed. */
export const meshIdentity = (tier: string): string[] => [
  "-c",
  `user.name=agent-mesh`,
  "-c",
  `user.email=${tier}@agent-mesh.local`,
  "-c",
  "commit.gpgsign=false",
];

export type GitRun = { code: number; stdout: string; stderr: string };

/**
 * Settings of a first checkout: parallel checkout (writing the files is most of an attempt's
 * overhead on a large repository; git < 2.32 ignores it), index version 4 and the untracked cache.
 */
export const MANY_FILES_SETTINGS = ["-c", "checkout.workers=0", "-c", "feature.manyFiles=true"];

/** One git call with the mesh's settings (`input` on its stdin); never throws (a failure is a non-zero code). */
export function git(cwd: string, args: readonly string[], input?: string): Promise<GitRun> {
  return new Promise((resolve) => {
    // A folder that is gone (a deleted repository) must fail like any git error, never throw.
    try {
      run(resolve);
    } catch (error) {
      resolve({ code: 1, stdout: "", stderr: error instanceof Error ? error.message : String(error) });
    }
  });
  function run(resolve: (result: GitRun) => void): void {
    const child = execFile(
      "git",
      [...CALL_SETTINGS, ...args],
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_GIT_OUTPUT, env: gitEnvironment({ GIT_EDITOR: "true" }) },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? "") });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  }
}
