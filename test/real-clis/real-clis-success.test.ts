// The real coding CLIs' success path: claude, codex, gemini and opencode, installed
// from npm, run through a real agent and the real mesh against the scripted model server on
// 127.0.0.1 (test/model-server), which answers with the CLI's own write tool and a relative path.
// Each attempt must succeed with the file in its worktree's commit, and the file must appear nowhere
// else: not in the user's checkout, not in the agent's own directory (its cwd and PWD, as under
// `npm run agent`), not in the project.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BUILT_AGENT } from "../../launcher/agent-process.ts";
import { PROJECT_ROOT, stopGroup } from "../../launcher/dev-server.ts";
import type { AgentRecord, TaskView } from "../../protocol/index.ts";
import { buildAgentOnce, startMesh, waitFor, type Mesh } from "../integration/mesh-harness.ts";
import { startModelServer, type ModelServer } from "../model-server/model-server.ts";
import { writeThenSay } from "../model-server/scripted-turns.ts";
import { CLI_BIN, CLI_CACHE, installClis } from "./install-clis.ts";
import { SCRIPTED_TIERS, scriptedExecutors } from "./scripted-cli-setup.ts";

const PROOF = "mesh-proof.txt";
const PROOF_TEXT = "written by the scripted model through the mesh";
const AGENT = "vm-scripted";
/** Variables that would give a CLI real credentials, or say where the test runner was started. */
const WITHHELD = /API_KEY|_TOKEN|ANTHROPIC|OPENAI|GEMINI|GOOGLE|DEEPSEEK|OPENCODE|CODEX|^PWD$|^OLDPWD$|^INIT_CWD$|^npm_/;

let server: ModelServer;
let mesh: Mesh;
let agent: ChildProcess | undefined;
const agentOutput: string[] = [];
/** The test's temporary folders: a fresh HOME, the CLIs' config, the user's repository, the agent's own directory. */
let root: string;
let home: string;
let repo: string;
let agentDir: string;
let repoHead: string;

const git = (cwd: string, ...args: string[]): string => execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd, encoding: "utf8" }).trim();

/** Where a stray proof file would show that a CLI wrote outside its worktree. */
const elsewhere = (): string[] => [repo, agentDir, PROJECT_ROOT, home].map((dir) => join(dir, PROOF)).filter((path) => existsSync(path));

/** The built agent, started as `npm run agent` is: from a directory of its own, with PWD saying so. */
async function startAgentInItsDirectory(executorsFile: string): Promise<ChildProcess> {
  buildAgentOnce();
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !WITHHELD.test(name)));
  const child = spawn(process.execPath, [BUILT_AGENT, "--kind", "vm", "--server", mesh.url, "--name", AGENT, "--executors", executorsFile, "--capacity", "1", "--state-dir", join(root, "agent-state")], {
    cwd: agentDir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...env, PATH: `${CLI_BIN}:${process.env.PATH ?? ""}`, HOME: home, PWD: agentDir, INIT_CWD: agentDir, MESH_AGENT_TOKEN: mesh.agentToken },
  });
  const keep = (chunk: Buffer): void => void agentOutput.push(...chunk.toString().split("\n").filter((line) => line !== ""));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitFor(`agent ${AGENT} online`, async () => {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${agentOutput.join("\n")}`);
    const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
    return body.agents.some((found) => found.name === AGENT && found.state === "online");
  });
  return child;
}

beforeAll(async () => {
  installClis();
  root = mkdtempSync(join(tmpdir(), "mesh-scripted-"));
  for (const dir of ["home", "config", "repo", "agent"]) mkdirSync(join(root, dir));
  [home, repo, agentDir] = [join(root, "home"), join(root, "repo"), join(root, "agent")];
  git(repo, "init", "-q");
  writeFileSync(join(repo, "README.md"), "A user's project.\n");
  git(repo, "add", "README.md");
  git(repo, "commit", "-q", "-m", "initial");
  repoHead = git(repo, "rev-parse", "HEAD");
  server = await startModelServer({ turns: writeThenSay(PROOF, `${PROOF_TEXT}\n`) });
  const executorsFile = join(root, "config", "executors.json");
  writeFileSync(executorsFile, JSON.stringify(scriptedExecutors(server.url, join(root, "config"), home)));
  mesh = await startMesh();
  agent = await startAgentInItsDirectory(executorsFile);
});

afterEach(() => {
  // A stray file is the failure of the test that made it, not of the next CLI's.
  for (const path of elsewhere()) rmSync(path, { force: true });
});

afterAll(async () => {
  if (agent !== undefined) await stopGroup(agent);
  await mesh?.stop();
  await server?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe("the real CLIs against the scripted model server", () => {
  it.each(SCRIPTED_TIERS)("$cli ($tier): its own write tool writes in its worktree only, and the attempt succeeds with the file", async ({ tier, cli, api }) => {
    const before = server.requests.length;
    const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: `Write ${PROOF}.`, executor: tier, agent: AGENT, cwd: repo } });
    expect(created.status).toBe(201);
    const task = await mesh.finished(created.body.task_id, 90_000);
    const requests = server.requests.slice(before);
    const strays = elsewhere();
    console.log(`${cli} (${tier}): ${task.status}${task.error === undefined ? "" : ` ${task.error.code}: ${task.error.message}`}; requests ${JSON.stringify(requests.map((r) => `${r.method} ${r.path} ${r.answered}`))}; written outside its worktree: ${JSON.stringify(strays)}`);
    if (task.status !== "succeeded") console.log(`${cli} agent output:\n${agentOutput.slice(-40).join("\n")}`);

    // It called the scripted model on its own API, and was answered with the write, then the text.
    expect(requests.filter((request) => api.test(request.path)).map((request) => request.answered)).toEqual(expect.arrayContaining([`write ${PROOF}`, "text"]));
    expect(requests.filter((request) => request.status >= 400), "no request the server refused").toEqual([]);
    // The file is nowhere outside the worktree: not the user's checkout, the agent's directory, the project.
    expect(strays, "files the CLI wrote outside its worktree").toEqual([]);
    expect(git(repo, "status", "--porcelain"), "the user's checkout").toBe("");
    expect(git(repo, "rev-parse", "HEAD")).toBe(repoHead);

    expect(task.status).toBe("succeeded");
    expect(task.attempts).toHaveLength(1);
    const attempt = task.attempts[0];
    expect(attempt?.executor).toBe(cli);
    expect(attempt?.tokens.input).toBeGreaterThan(0);
    expect(attempt?.commit).toBeDefined();
    expect(attempt?.changed_files).toEqual([PROOF]);
    const diff = await mesh.api<string>(`/api/tasks/${task.task_id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body).toContain(`+++ b/${PROOF}`);
    expect(diff.body).toContain(`+${PROOF_TEXT}`);
  });

  it("leaves no process of theirs behind", async () => {
    const cliProcesses = (): number[] => readdirSync("/proc").filter((name) => /^\d+$/.test(name)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(CLI_CACHE);
      } catch {
        return false;
      }
    }).map(Number);
    await waitFor("every CLI process to be gone", () => cliProcesses().length === 0, 15_000);
  });
});
