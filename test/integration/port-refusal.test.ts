// `npm start` and `npm run server` refuse a port that is not one, and a port that is taken, with exit
// code 2 and one line, before starting anything: whatever listens there (another program, or a running
// mesh, whose URL the line names) is left untouched (docs/command-line.md). The built programs run as
// real processes against a real listener and a real mesh (partykit dev).
import { spawn } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { newToken } from "../../launcher/secrets-file.ts";
import { freePort, type Mesh, startAgent, startMesh, type TestAgent } from "./mesh-harness.ts";

const PROGRAMS = [
  { program: "npm start", file: "dist/start.js", retry: "npm start --" },
  { program: "npm run server", file: "dist/server.js", retry: "npm run server --" },
];
// No secrets: a port is refused before they are read (npm start would otherwise write .mesh/secrets.env).
const bare = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MESH_")));

/**
 * Runs a built program to its end; a program that started a server instead would be stopped by the timeout and fail the
 * test.
 */
function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = bare,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], {
      cwd: PROJECT_ROOT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid ?? 0), "SIGKILL");
      } catch {
        // gone already
      }
    }, 20_000);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const connects = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe.each(PROGRAMS)("$program --port", ({ file }) => {
  it.each(["abc", "99999", "0", "65536", "1e3", "0x50", "80.5", ""])(
    "refuses '%s': exit 2, one line, no stack trace",
    async (port) => {
      const refused = await run(file, ["--port", port]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toBe(`error: --port must be a whole number from 1 to 65535, got '${port}'\n`);
      expect(refused.stdout).toBe("");
    },
  );
});

describe("a port that is taken", () => {
  let listener: Server;
  /** The listener's open connections: destroyed at the end, so closing it never waits on a peer. */
  const sockets = new Set<Socket>();
  let listenerPort: number;
  let mesh: Mesh;
  let agent: TestAgent;

  beforeAll(async () => {
    listenerPort = await freePort();
    listener = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.end();
    });
    await new Promise<void>((listening) => listener.listen(listenerPort, "127.0.0.1", listening));
    mesh = await startMesh();
    agent = await startAgent(mesh, "first-mesh-agent", {
      executors: { deepseek: { command: [process.execPath, "-e", "0"], format: "text", timeout_s: 60 } },
    });
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await mesh?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((closed) => listener?.close(closed));
  });

  it.each(PROGRAMS)(
    "$program refuses a port another program listens on, and leaves it listening",
    async ({ file, retry }) => {
      // With secrets, so npm run server gets past them: the port is still refused first or after them, never started
      // on.
      const refused = await run(file, ["--port", String(listenerPort)], {
        ...bare,
        MESH_ORCHESTRATOR_TOKEN: newToken(),
        MESH_AGENT_TOKEN: newToken(),
      });
      expect(refused.status).toBe(2);
      expect(refused.stderr).toBe(
        `error: port ${listenerPort} on 127.0.0.1 is taken by another program (left running); pick another port: ${retry} --port 2999\n`,
      );
      expect(await connects(listenerPort)).toBe(true);
    },
  );

  it.each(PROGRAMS)(
    "$program refuses the port of a running mesh, naming its URL, and the mesh and its agent stay",
    async ({ file, retry }) => {
      const before = await mesh.api<{ agents: Array<{ name: string; state: string }> }>("/api/agents");
      const refused = await run(file, ["--port", String(mesh.port)]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toBe(
        `error: port ${mesh.port} is taken: an agent-mesh already runs at http://127.0.0.1:${mesh.port} (left running); use it, stop it first, or pick another port: ${retry} --port 2999\n`,
      );
      expect(refused.stdout).toBe("");
      expect((await fetch(`${mesh.url}/health`)).status).toBe(200);
      const after = await mesh.api<{ agents: Array<{ name: string; state: string }> }>("/api/agents");
      expect(after.body.agents).toEqual(
        before.body.agents.map((a) => expect.objectContaining({ name: a.name, state: a.state })),
      );
      expect(after.body.agents.find((a) => a.name === "first-mesh-agent")?.state).toBe("online");
      expect(agent.process.exitCode).toBeNull();
    },
  );
});
