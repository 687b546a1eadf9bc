// One real mesh, one real agent and the scripted model server, as every real-CLI success file starts
// them (test/real-clis/README.md): a fresh HOME, the CLIs' config, the user's git repository and the
// agent's own directory under one temporary folder; the agent runs from the built bundle, from its own
// directory, with no credential in its environment, and every CLI behind the server as its proxy.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILT_AGENT } from "../../launcher/agent-process.ts";
import { stopGroup } from "../../launcher/dev-server.ts";
import type { AgentRecord, LogLine } from "../../protocol/index.ts";
import { committedRepo, git } from "../agents/git-repo.ts";
import { buildAgentOnce, type Mesh, startMesh, waitFor } from "../integration/mesh-harness.ts";
import { type LoggedRequest, type ModelServer, startModelServer } from "../model-server/model-server.ts";
import type { Turn } from "../model-server/scripted-turns.ts";
import { CLI_BIN, CLI_CACHE, installClis } from "./install-clis.ts";
import { KNOWN_OUTBOUND, scriptedExecutors } from "./scripted-cli-setup.ts";

/** Variables that would give a CLI real credentials, or say where the test runner was started. */
const WITHHELD =
  /API_KEY|_TOKEN|ANTHROPIC|OPENAI|GEMINI|GOOGLE|DEEPSEEK|OPENCODE|CODEX|PROXY|^PWD$|^OLDPWD$|^INIT_CWD$|^npm_/i;

/**
 * The runner's variables a real CLI must not see (credentials, proxies, where the runner started), as undefined: spawn
 * leaves them out.
 */
export function withheldEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.keys(process.env)
      .filter((variable) => WITHHELD.test(variable))
      .map((variable) => [variable, undefined]),
  );
}

export type ScriptedMesh = {
  server: ModelServer;
  mesh: Mesh;
  agentName: string;
  /** Everything the agent printed. */
  agentOutput: string[];
  root: string;
  home: string;
  /** The user's repository (one commit, README.md) and its HEAD. */
  repo: string;
  repoHead: string;
  agentDir: string;
  git(cwd: string, ...args: string[]): string;
  /** The task's stored log lines. */
  logs(taskId: string): Promise<LogLine[]>;
  stop(): Promise<void>;
};

export { git };

/**
 * A temporary folder for a scripted run: `home` and `config` for the CLIs, and the user's repository
 * `repo` (one commit: README.md, `repoHead`).
 */
export function scriptedFolders(prefix: string): {
  root: string;
  home: string;
  config: string;
  repo: string;
  repoHead: string;
} {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const dir of ["home", "config", "repo"]) mkdirSync(join(root, dir));
  const repo = committedRepo(join(root, "repo"), { "README.md": "A user's project.\n" });
  return {
    root,
    home: join(root, "home"),
    config: join(root, "config"),
    repo,
    repoHead: git(repo, "rev-parse", "HEAD"),
  };
}

/**
 * An agent's environment for the installed CLIs: no credential of the runner's, `home` as HOME, the CLIs first on PATH.
 */
export function cliAgentEnv(home: string): NodeJS.ProcessEnv {
  return { ...withheldEnv(), HOME: home, PATH: `${CLI_BIN}:${process.env.PATH ?? ""}` };
}

/** The built agent, started as `npm run agent` is: from a directory of its own, with PWD saying so. */
async function startAgentInItsDirectory(
  mesh: Mesh,
  name: string,
  dirs: { root: string; home: string; agentDir: string },
  executorsFile: string,
  capacity: number,
  output: string[],
): Promise<ChildProcess> {
  buildAgentOnce();
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([variable]) => !WITHHELD.test(variable)),
  );
  const child = spawn(
    process.execPath,
    [
      BUILT_AGENT,
      "--kind",
      "vm",
      "--server",
      mesh.url,
      "--name",
      name,
      "--executors",
      executorsFile,
      "--capacity",
      String(capacity),
      "--state-dir",
      join(dirs.root, "agent-state"),
    ],
    {
      cwd: dirs.agentDir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...env,
        PATH: `${CLI_BIN}:${process.env.PATH ?? ""}`,
        HOME: dirs.home,
        PWD: dirs.agentDir,
        INIT_CWD: dirs.agentDir,
        MESH_AGENT_TOKEN: mesh.agentToken,
      },
    },
  );
  const keep = (chunk: Buffer): void =>
    void output.push(
      ...chunk
        .toString()
        .split("\n")
        .filter((line) => line !== ""),
    );
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitFor(`agent ${name} online`, async () => {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${output.join("\n")}`);
    const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
    return body.agents.some((found) => found.name === name && found.state === "online");
  });
  return child;
}

/**
 * Starts the model server (default script `turns`), a mesh (`settings` its variables) and one agent serving the four
 * scripted tiers.
 */
export async function startScriptedMesh(options: {
  agentName: string;
  turns: Turn[];
  settings?: Record<string, string>;
  capacity?: number;
}): Promise<ScriptedMesh> {
  installClis();
  const { root, home, repo, repoHead } = scriptedFolders("mesh-scripted-");
  const agentDir = join(root, "agent");
  mkdirSync(agentDir);
  const server = await startModelServer({ turns: options.turns });
  const executorsFile = join(root, "config", "executors.json");
  writeFileSync(executorsFile, JSON.stringify(scriptedExecutors(server.url, join(root, "config"), home)));
  const mesh = await startMesh(options.settings ?? {});
  const agentOutput: string[] = [];
  let agent: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (agent !== undefined) await stopGroup(agent);
    await mesh.stop();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    agent = await startAgentInItsDirectory(
      mesh,
      options.agentName,
      { root, home, agentDir },
      executorsFile,
      options.capacity ?? 1,
      agentOutput,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    server,
    mesh,
    agentName: options.agentName,
    agentOutput,
    root,
    home,
    repo,
    repoHead,
    agentDir,
    git,
    async logs(taskId) {
      const { body } = await mesh.api<{ lines: LogLine[] }>(`/api/tasks/${taskId}/logs?since_seq=0`);
      return body.lines;
    },
    stop,
  };
}

/** Outbound connections the guard refused that are not on the known list for `cli`: a new phone-home. */
export function unexpectedOutbound(requests: readonly LoggedRequest[], cli: string): string[] {
  const known = new Set(KNOWN_OUTBOUND.filter((entry) => entry.cli === cli).map((entry) => entry.host));
  return requests
    .filter((request) => request.answered === "outbound refused" && !known.has(request.host ?? ""))
    .map((request) => `${request.method} ${request.host ?? request.path}`);
}

/** Pids of processes started from the CLI cache (the CLIs and whatever they started). */
export function cliProcesses(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(CLI_CACHE) ? [Number(pid)] : [];
      } catch {
        return [];
      }
    });
}
