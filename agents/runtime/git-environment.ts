// What every git call of the agent carries, on its own disk, to a remote and for its mirrors
// (docs/work-isolation.md, docs/repositories.md): never a prompt, the C locale, never another
// repository's variables, never the user's hooks.

/**
 * Variables that would point git at another repository, index or object store than cwd's (set, say,
 * when the agent is started from a git hook); they are removed from every call's environment.
 */
const REPOSITORY_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
];

/**
 * Settings every call carries: the user's hooks never run on the mesh's own worktree, commit, merge
 * and fetch steps; the agent may run as another user than the repository's owner.
 */
export const CALL_SETTINGS = ["-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*"];

/** The agent's environment for a git call: no prompt, the C locale, `extra`, and none of REPOSITORY_VARIABLES. */
export function gitEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...extra };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  return env;
}
