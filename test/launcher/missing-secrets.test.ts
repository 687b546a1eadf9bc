// A missing or empty secret stops each program at start (docs/settings.md): exit code 2 and one line
// naming what is missing and what to do, never a process that runs with an empty token and meets a
// 401 later. Each program runs as a real process from its source.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { newToken } from "../../launcher/secrets-file.ts";

const stateDir = mkdtempSync(join(tmpdir(), "mesh-no-secret-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** Runs a program of the checkout with only PATH, HOME and `env`: no MESH_ setting of the runner leaks in. */
function run(file: string, args: string[], env: Record<string, string>) {
  const ran = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, file), ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: stateDir, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: ran.status, stderr: ran.stderr, stdout: ran.stdout };
}

const agentArgs = [
  "--kind",
  "vm",
  "--server",
  "http://127.0.0.1:1",
  "--name",
  "no-secret",
  "--executors",
  join(PROJECT_ROOT, "agents/vm/executors.json"),
  "--state-dir",
  stateDir,
];

describe("a program started without its secret", () => {
  it.each([
    ["no orchestrator token", { MESH_AGENT_TOKEN: newToken() }, "MESH_ORCHESTRATOR_TOKEN"],
    [
      "an empty orchestrator token",
      { MESH_ORCHESTRATOR_TOKEN: "", MESH_AGENT_TOKEN: newToken() },
      "MESH_ORCHESTRATOR_TOKEN",
    ],
    ["an empty agent token", { MESH_ORCHESTRATOR_TOKEN: newToken(), MESH_AGENT_TOKEN: "" }, "MESH_AGENT_TOKEN"],
  ])("npm run server with %s stops: exit 2, one line naming it", (_case, env, name) => {
    const ran = run("launcher/server.ts", ["--port", "1"], env);
    expect(ran.status).toBe(2);
    expect(ran.stderr).toBe(
      `error: ${name} is not set; set it to a random secret of 32+ characters (npm start generates one into .mesh/secrets.env)\n`,
    );
    expect(ran.stdout).toBe("");
  });

  it("npm start with an empty agent token in the environment stops: exit 2, one line, and starts nothing", () => {
    const ran = run("launcher/start.ts", ["--port", "1", "--no-demo-task"], { MESH_AGENT_TOKEN: "" });
    expect(ran.status).toBe(2);
    expect(ran.stderr).toBe(
      "error: MESH_AGENT_TOKEN is not set; set it to a random secret of 32+ characters (npm start generates one into .mesh/secrets.env)\n",
    );
    expect(ran.stdout).not.toContain("Starting");
  });

  it.each([
    ["no agent token", {}],
    ["an empty agent token", { MESH_AGENT_TOKEN: "" }],
  ])("the agent with %s and no credential of its own stops: exit 2, one line saying what to export", (_case, env) => {
    const ran = run("agents/cli.ts", agentArgs, env);
    expect(ran.status).toBe(2);
    expect(ran.stderr).toMatch(
      /^mesh-agent: MESH_AGENT_TOKEN is not set and .*credential\.json holds no credential for this mesh: export the mesh's agent \(enrollment\) token/,
    );
    expect(ran.stderr.trimEnd().split("\n")).toHaveLength(1);
    // It never got as far as keeping anything.
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it("the stdio bridge with no orchestrator token stops: exit 2, one line", () => {
    const ran = run("bridge/stdio-bridge.ts", [], { MESH_ORCHESTRATOR_TOKEN: "" });
    expect(ran.status).toBe(2);
    expect(ran.stderr).toMatch(/^mesh-mcp: set MESH_ORCHESTRATOR_TOKEN/);
    expect(ran.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});
