// "Every command helps" (docs/command-line.md): --help and --version on every command, one line and the
// usage for a bad flag (exit 2, never a stack trace), and a signal to `npm run` reaches the real
// process instead of orphaning it. The built programs (dist/, made by `npm test` before vitest) run
// as real processes.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { waitFor } from "../integration/mesh-harness.ts";

const VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;
const COMMANDS = [
  { program: "npm start", file: "dist/start.js" },
  { program: "npm run server", file: "dist/server.js" },
  { program: "mesh-agent", file: "dist/mesh-agent.js" },
  { program: "mesh-mcp", file: "bin/mesh-mcp.mjs" },
];
// No secrets in the environment: --help and --version must not need them.
const bare = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MESH_")));
const run = (file: string, ...args: string[]) =>
  spawnSync(process.execPath, [file, ...args], { cwd: PROJECT_ROOT, env: bare, encoding: "utf8", timeout: 20_000 });

describe.each(COMMANDS)("$program", ({ program, file }) => {
  it("prints its usage for --help and its version for --version, with exit code 0", () => {
    const help = run(file, "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: /i);
    expect(help.stdout).toContain("--version");
    const version = run(file, "--version");
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`${program} ${VERSION}\n`);
  });

  it("answers an unknown flag with one line and the usage, exit code 2, never a stack trace", () => {
    const bad = run(file, "--colour", "red");
    expect(bad.status).toBe(2);
    const [first, ...rest] = bad.stderr.trimEnd().split("\n");
    expect(first).toBe(`${program}: Unknown option '--colour'`);
    expect(rest[0]).toMatch(/^usage: /i);
    expect(bad.stderr).not.toMatch(/\n\s+at |TypeError|ERR_PARSE_ARGS/);
  });
});

describe("npm run", () => {
  it("passes SIGTERM to the agent it started (no orphan behind npm)", async () => {
    const state = mkdtempSync(join(tmpdir(), "mesh-signal-"));
    // A tier whose program is installed here (node), so the agent's preflight offers it.
    const executors = join(state, "executors.json");
    writeFileSync(
      executors,
      JSON.stringify({ executors: { deepseek: { command: [process.execPath, "-e", "0"], format: "text" } } }),
    );
    // Port 9 (discard) refuses: the agent keeps retrying until it is told to stop.
    const npm = spawn(
      "npm",
      [
        "run",
        "-s",
        "agent",
        "--",
        "--kind",
        "vm",
        "--server",
        "http://127.0.0.1:9",
        "--name",
        "signal-test",
        "--state-dir",
        state,
        "--executors",
        executors,
      ],
      {
        cwd: PROJECT_ROOT,
        env: { ...bare, MESH_AGENT_TOKEN: "signal-test-token-0123456789abcdefghij" },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    npm.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor("the agent to start", () => output.includes("cannot reach the registry"), 20_000);
      const agentPids = (): number[] =>
        spawnSync("pgrep", ["-f", "--", `mesh-agent.js .*--state-dir ${state}`], { encoding: "utf8" })
          .stdout.split("\n")
          .filter(Boolean)
          .map(Number)
          .filter((pid) => pid !== npm.pid);
      expect(agentPids().length).toBeGreaterThan(0);
      process.kill(npm.pid ?? 0, "SIGTERM");
      await waitFor("the agent to stop", () => agentPids().length === 0, 15_000);
      await waitFor(
        "the agent to say why it stopped",
        () => output.includes("mesh-agent: SIGTERM: stopping running attempts"),
        5_000,
      );
    } finally {
      try {
        process.kill(-(npm.pid ?? 0), "SIGKILL");
      } catch {
        // already gone
      }
      rmSync(state, { recursive: true, force: true });
    }
  });
});
