// `npm start`: the mesh server, one local agent running the bundled demo CLI, and a demo task to watch.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { z } from "zod";
import { signalGroup } from "../agents/runtime/process-group-signal.ts";
import { type ExecutorFormat, type ExecutorsFile, type ExecutorTier, TaskId } from "../protocol/index.ts";
import { startAgentProcess } from "./agent-process.ts";
import { takeLock } from "./checkout-lock.ts";
import { readCommandLine, valueOrExit } from "./command-line.ts";
import { PROJECT_ROOT, startDevServer, stopGroup } from "./dev-server.ts";
import { checkListenPort, localUrl } from "./listen-port.ts";
import { carryCredentialToPort } from "./local-agent-credential.ts";
import { loadOrCreateSecrets, secretsFrom } from "./secrets-file.ts";
import { serverVarsOrExit } from "./server-vars.ts";

const USAGE = [
  "usage: npm start [-- --port <port>, default 1999] [--host <address>, default 127.0.0.1] [--no-demo-task] [--help] [--version]",
  "the mesh server and one local agent whose every tier runs the bundled demo CLI; unless --no-demo-task, also a demo task (in a throwaway git repository) to watch",
  "secrets come from the environment or .mesh/secrets.env (generated); a port that is taken is refused, leaving what runs there untouched",
].join("\n");
const values = readCommandLine("npm start", USAGE, {
  port: { type: "string", default: "1999" },
  host: { type: "string", default: "127.0.0.1" },
  "no-demo-task": { type: "boolean" },
});
const host = values.host ?? "127.0.0.1";
// A bad or taken port is refused before anything is written or started: a second mesh there would take
// the first one's agent name and end it. Another bind error waits for the secrets check, which comes first.
const portChecked = await checkListenPort(host, values.port ?? "1999", "npm start --");
if (!portChecked.ok && portChecked.error.code !== "cannot_listen") valueOrExit(portChecked);
const stateDir = join(PROJECT_ROOT, ".mesh");
const secretsFile = join(stateDir, "secrets.env");
const loaded = loadOrCreateSecrets(secretsFile);
const created = loaded.created;
// Never up and broken (docs/settings.md): a secret from the environment or the file that is missing, empty or short
// stops it here.
const secrets = valueOrExit(secretsFrom(loaded.secrets));

const vars = serverVarsOrExit(secrets);
const port = valueOrExit(portChecked);
// One npm start per checkout, whatever its port: two would share .mesh/ (docs/command-line.md).
const lock = valueOrExit(takeLock(join(stateDir, "start.lock"), localUrl(host, port)));
console.log(`Starting the mesh on port ${port} (state in ${relative(PROJECT_ROOT, stateDir)}/)…`);
const server = await startDevServer({ port, persistDir: join(stateDir, "state"), vars, host }).catch(
  (error: unknown) => {
    console.error(
      `The server did not start: ${error instanceof Error ? error.message : String(error)}\nIs port ${port} in use? Try 'npm start -- --port 2999'.`,
    );
    lock.release();
    process.exit(1);
  },
);

// Every tier runs the demo CLI, replaying a recorded session in that tier's real output format, so
// any task finds an agent without API keys and shows live lines, tokens and cost.
const demoCli = join(PROJECT_ROOT, "agents/demo-cli/demo-cli.mjs");
const demoFormats = {
  deepseek: ["opencode-json", "deepseek/deepseek-v4-flash"],
  "gemini-flash": ["gemini-stream-json", "gemini-2.5-flash"],
  "gemini-pro": ["gemini-stream-json", "gemini-2.5-pro"],
  codex: ["codex-jsonl", "gpt-5.3-codex"],
  sonnet: ["claude-stream-json", "claude-sonnet-4-5-20250929"],
  opus: ["claude-stream-json", "claude-opus-4-5-20251101"],
} as const satisfies Record<ExecutorTier, readonly [ExecutorFormat, string]>;
const executors: ExecutorsFile = { executors: {} };
for (const [tier, [format, model]] of Object.entries(demoFormats) as Array<
  [ExecutorTier, readonly [ExecutorFormat, string]]
>) {
  executors.executors[tier] = {
    command: [demoCli, "--format", format, "-m", model, "{prompt}"],
    format,
    timeout_s: 300,
  };
}
const executorsFile = join(stateDir, "demo-executors.json");
mkdirSync(stateDir, { recursive: true });
writeFileSync(executorsFile, `${JSON.stringify(executors, null, 2)}\n`);

const agentStateDir = join(stateDir, "agent");
const agentName = `local-${hostname()
  .replace(/[^A-Za-z0-9._-]/g, "-")
  .slice(0, 40)}`;
const kind = process.platform === "darwin" ? "mac" : "vm";
// The same mesh state on another port than last time: the agent's credential goes with it (else name_taken).
carryCredentialToPort(agentStateDir, agentName, server.url);
console.log(`Starting agent ${agentName} (${kind})…`);
const agent = startAgentProcess({
  server: server.url,
  name: agentName,
  kind,
  executorsFile,
  agentToken: secrets.MESH_AGENT_TOKEN,
  capacity: 2,
  args: ["--state-dir", agentStateDir],
  onLine: (line) => console.log(`  [agent] ${line}`),
});

let stopping = false;
/** The throwaway repository the demo task works in (removed when npm start stops). */
let demoRepo: string | undefined;
const stopAll = async (): Promise<void> => {
  stopping = true;
  await stopGroup(agent);
  await server.stop();
  removeDemoRepo();
};
// A closing line on Ctrl-C, so the terminal says the mesh is gone rather than just falling silent.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second Ctrl-C while stopping: leave now (the exit handler below still ends both process groups).
    if (stopping) process.exit(130);
    console.log(`\n${signal}: stopping the agent and the server…`);
    void stopAll().then(() => {
      console.log(
        `agent-mesh stopped (tasks and tokens kept in ${relative(PROJECT_ROOT, stateDir)}/ for the next npm start).`,
      );
      process.exit(0);
    });
  });
}
// Last resort when this process is ended without a signal handler running (an error, say): the
// server and the agent run in process groups of their own, so they would outlive it, and so would
// the demo repository.
process.on("exit", () => {
  for (const pid of [agent.pid, server.process.pid]) {
    // Only ESRCH is "already gone"; anything else is told (docs/containment.md).
    const sent = pid === undefined ? undefined : signalGroup(pid, "SIGTERM");
    if (sent?.ok === false) console.error(`warning: ${sent.error.message}`);
  }
  removeDemoRepo();
  lock.release();
});
agent.on("exit", (code) => {
  if (stopping) return;
  console.error(`The agent exited (code ${code}); stopping the mesh.`);
  void stopAll().then(() => process.exit(1));
});

/** The fields npm start reads of the two answers it asks for (docs/http-api.md): parsed, never cast. */
const TaskCreated = z.object({ task_id: TaskId });
const LinkCreated = z.object({ token: z.string().min(1) });

const api = async <T>(
  path: string,
  answer: z.ZodType<T>,
  init: { method?: string; body?: unknown } = {},
): Promise<T> => {
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${secrets.MESH_ORCHESTRATOR_TOKEN}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path} → ${response.status}: ${await response.text()}`);
  return answer.parse(await response.json());
};

let demoTaskId: string | undefined;
if (!values["no-demo-task"]) {
  demoRepo = makeDemoRepo();
  // The acceptance check leaves evidence on the attempt (command, exit code, output) for the page to show.
  // Always a cwd: a task naming neither cwd nor repo would run in an empty scratch directory (docs/repositories.md).
  const where =
    demoRepo === undefined
      ? {}
      : { cwd: demoRepo, acceptance: { command: "grep -n 'status: 4' src/router.ts", allowed_paths: ["src", "test"] } };
  const task = await api("/api/tasks", TaskCreated, {
    method: "POST",
    body: { instruction: "Add input validation to the router and cover it with tests", agent: agentName, ...where },
  });
  demoTaskId = task.task_id;
}
// The person at this machine is the operator: the dashboard link may also decide at the human step.
const link = await api("/api/links", LinkCreated, { method: "POST", body: { ttl_s: 7 * 24 * 3600, operator: true } });

const linkToken = `token=${encodeURIComponent(link.token)}`;
const secretsPath = relative(PROJECT_ROOT, secretsFile);
// Two links, each saying what it opens: the dashboard (every task, agents, budget) and the demo task's own page.
console.log(`
agent-mesh is up.
  Dashboard:     ${server.url}/#${linkToken}${
    demoTaskId === undefined
      ? ""
      : `
  Demo task:     ${server.url}/#task=${demoTaskId}&${linkToken}   (its live log, path and diff)`
  }
  MCP endpoint:  ${server.url}/mcp   (Streamable HTTP; Authorization: Bearer $MESH_ORCHESTRATOR_TOKEN)
  HTTP API:      ${server.url}/api
  Health:        ${server.url}/health
  Secrets file:  ${secretsPath}${created ? " (new tokens generated)" : ""}
  Agent:         ${agentName} (${kind}), every tier runs the bundled demo CLI

In another shell, load the tokens first (the commands below read them):
  set -a; . ${secretsPath}; set +a

Add the mesh to Claude Code:
  claude mcp add --transport http agent-mesh ${server.url}/mcp --header "Authorization: Bearer $MESH_ORCHESTRATOR_TOKEN"

Create another task:
  curl -s -X POST ${server.url}/api/tasks -H "authorization: Bearer $MESH_ORCHESTRATOR_TOKEN" -d '{"instruction":"hello","cwd":"${demoRepo ?? "/path/to/a/checkout"}"}'
  (or "repo":"https://github.com/you/project.git" instead of cwd: the agent clones it with its own git credentials)

Ctrl-C stops the server and the agent.`);

/**
 * A throwaway git repository for the demo task, outside the project, so its attempt runs in a
 * worktree and its result is a diff on the task page (README "Work isolation"). The `.mesh-demo`
 * marker lets the demo CLI edit it. Without a working git the folder is still the demo task's cwd
 * (it runs there in place, without a diff): never the agent's own directory.
 */
function makeDemoRepo(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "mesh-demo-repo-"));
  const git = (...args: string[]): void =>
    void execFileSync(
      "git",
      [
        "-c",
        "user.name=agent-mesh demo",
        "-c",
        "user.email=demo@agent-mesh.local",
        "-c",
        "commit.gpgsign=false",
        "-c",
        "init.defaultBranch=main",
        ...args,
      ],
      { cwd: dir, stdio: "ignore" },
    );
  try {
    mkdirSync(join(dir, "src"));
    writeFileSync(
      join(dir, "README.md"),
      "# demo\n\nA throwaway repository made by `npm start`; removed when it stops.\n",
    );
    writeFileSync(join(dir, ".mesh-demo"), "the demo CLI may edit this repository\n");
    writeFileSync(
      join(dir, "src/router.ts"),
      "export type Body = { name: string };\n\nexport function parseBody(text: string): Body {\n  return JSON.parse(text) as Body;\n}\n",
    );
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "demo: a router without validation");
    return dir;
  } catch (error) {
    rmSync(join(dir, ".git"), { recursive: true, force: true });
    console.log(
      `  (no demo repository: git failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}; the demo task runs in place in ${dir}, so it has no diff. Install git to see one.)`,
    );
    return dir;
  }
}

/**
 * Removes the demo repository and the local agent's worktrees of it (git lists them; the agent
 * keeps a succeeded attempt's worktree for a day, which would outlive the repository). Synchronous,
 * so the `exit` handler can run it; running it twice is harmless.
 */
function removeDemoRepo(): void {
  const repo = demoRepo;
  if (repo === undefined) return;
  demoRepo = undefined;
  let listed = "";
  try {
    listed = execFileSync("git", ["worktree", "list", "--porcelain"], {
      cwd: repo,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    // not a repository any more: nothing to list
  }
  const agentDir = realpathOr(agentStateDir);
  for (const line of listed.split("\n")) {
    const worktree = line.startsWith("worktree ") ? line.slice("worktree ".length) : "";
    // Only what the local agent made: never the repository itself or anything outside its state.
    if (!worktree.startsWith(`${agentDir}${sep}`)) continue;
    rmSync(worktree, { recursive: true, force: true });
    rmSync(`${worktree}.done`, { force: true });
    removeEmptyFolders(dirname(worktree), agentDir);
  }
  rmSync(repo, { recursive: true, force: true });
}

/** Removes `dir` and its parents while they are empty, stopping at `root`. */
function removeEmptyFolders(dir: string, root: string): void {
  for (let at = dir; at.startsWith(`${root}${sep}`); at = dirname(at)) {
    try {
      rmdirSync(at);
    } catch {
      return; // not empty (or gone)
    }
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
