// A child's environment names the directory it runs in, and no other (docs/faults.md). The agent
// sets each child's cwd, but a CLI may trust `PWD` instead (opencode does): inherited as it was, it
// names the agent's own directory, and under `npm run agent` the CLI's edits land in the agent's
// checkout. npm's variables that point at the agent's package go too.

/** Variables that name the agent's directory or package, never the child's: removed. */
const AGENT_DIRECTORY_VARIABLES = ["OLDPWD", "INIT_CWD", "npm_config_local_prefix", "npm_package_json"];
/** npm's descriptions of the script that started the agent (its package's name, version, scripts). */
const AGENT_PACKAGE_PREFIXES = ["npm_package_", "npm_lifecycle_"];

/** `env` for a child whose working directory is `cwd`: `PWD` says so, and nothing says the agent's. */
export function environmentAt(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const placed: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (AGENT_DIRECTORY_VARIABLES.includes(name) || AGENT_PACKAGE_PREFIXES.some((prefix) => name.startsWith(prefix)))
      continue;
    placed[name] = value;
  }
  placed.PWD = cwd;
  return placed;
}
