// Starts the real mesh for integration tests: `partykit dev` on a free port with its own persist
// directory, real agent processes, and real sockets. Everything started here is stopped by process group.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { BUILT_AGENT, startAgentProcess } from "../../launcher/agent-process.ts";
import { type DevServer, PROJECT_ROOT, startDevServer, stopGroup } from "../../launcher/dev-server.ts";
import { newToken } from "../../launcher/secrets-file.ts";
import { serverVars } from "../../launcher/server-vars.ts";
import {
  type AgentRecord,
  type ExecutorsFile,
  type LogLine,
  parseMessage,
  type TaskRecord,
  TaskToViewer,
  type TaskView,
} from "../../protocol/index.ts";
import { freePort } from "../loopback-ports.ts";

export const FIXTURES = join(import.meta.dirname, "../fixtures");

export { freePort };

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((done) => setTimeout(done, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** An API body as tests read it: an error, or fields checked by the test. */
export type ApiBody = { error?: { code: string; message: string }; [field: string]: unknown };

export type Mesh = {
  url: string;
  port: number;
  persistDir: string;
  orchestratorToken: string;
  agentToken: string;
  /** Calls the HTTP API with the orchestrator token (or `token`). */
  api<T = ApiBody>(
    path: string,
    init?: { method?: string; body?: unknown; token?: string | null; rawBody?: string },
  ): Promise<{ status: number; body: T }>;
  task(ref: string): Promise<TaskView>;
  /** Waits until the task has ended (succeeded, failed or cancelled) and returns it. */
  finished(ref: string, timeoutMs?: number): Promise<TaskView>;
  /** The dev server's pid (its process group id). */
  serverPid(): number;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
};

/** A fresh mesh server with new secrets and an empty persist directory outside the project. */
/** `page`: partykit builds the browser page too (only the browser tests need it; it costs each start about 2 s). */
export async function startMesh(
  settings: Record<string, string> = {},
  { page = false }: { page?: boolean } = {},
): Promise<Mesh> {
  const port = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), "mesh-test-"));
  const secrets = { MESH_ORCHESTRATOR_TOKEN: newToken(), MESH_AGENT_TOKEN: newToken() };
  const vars = { ...serverVars(secrets), ...settings };
  let server: DevServer | null = await startDevServer({ port, persistDir, vars, buildPage: page });
  const url = `http://127.0.0.1:${port}`;
  const mesh: Mesh = {
    url,
    port,
    persistDir,
    orchestratorToken: secrets.MESH_ORCHESTRATOR_TOKEN,
    agentToken: secrets.MESH_AGENT_TOKEN,
    async api<T>(
      path: string,
      init: { method?: string; body?: unknown; token?: string | null; rawBody?: string } = {},
    ) {
      const token = init.token === undefined ? secrets.MESH_ORCHESTRATOR_TOKEN : init.token;
      const request = (): Promise<Response> =>
        fetch(`${url}${path}`, {
          method: init.method ?? "GET",
          headers: {
            ...(token === null ? {} : { authorization: `Bearer ${token}` }),
            "content-type": "application/json",
          },
          ...(init.rawBody !== undefined
            ? { body: init.rawBody }
            : init.body === undefined
              ? {}
              : { body: JSON.stringify(init.body) }),
        });
      // After a 413 the server closes that connection, and after its keep-alive timeout an idle one: a request
      // fetch's pool put on such a socket is reset or finds it closed, unread: sent again once.
      const response = await request().catch((error: unknown) => {
        const cause = error as { cause?: { code?: unknown } };
        if (String(cause.cause).includes("ECONNRESET") || cause.cause?.code === "UND_ERR_SOCKET") return request();
        throw error;
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: body as T };
    },
    async task(ref) {
      const { status, body } = await mesh.api<TaskView>(`/api/tasks/${ref}`);
      if (status !== 200) throw new Error(`GET task ${ref} → ${status} ${JSON.stringify(body)}`);
      return body;
    },
    finished(ref, timeoutMs = 60_000) {
      return waitFor(
        `task ${ref} to finish`,
        async () => {
          const task = await mesh.task(ref);
          return ["succeeded", "failed", "cancelled"].includes(task.status) ? task : null;
        },
        timeoutMs,
      );
    },
    serverPid() {
      return server?.process.pid ?? 0;
    },
    async stopServer() {
      await server?.stop();
      server = null;
    },
    async startServer() {
      server = await startDevServer({ port, persistDir, vars, buildPage: page });
    },
    async stop() {
      await server?.stop();
      server = null;
      rmSync(persistDir, { recursive: true, force: true });
      // Agents' state folders (credentials, worktrees) sit next to it: `<persist>-agents/<name>` and the tests' own.
      for (const suffix of ["-agents", "-elsewhere", "-reenrolled"])
        rmSync(`${persistDir}${suffix}`, { recursive: true, force: true });
    },
  };
  return mesh;
}

export type TestAgent = {
  name: string;
  process: ChildProcess;
  output: string[] /** Its executors file (a test may change it). */;
  executorsFile: string;
  stop(): Promise<void>;
};

let built = false;
/**
 * Builds dist/ (the agent and the test fleet) once per test process, so agents run the code as it
 * is now, as production runs it: compiled JavaScript, no TypeScript loader. Takes well under a second.
 */
export function buildAgentOnce(): string {
  if (!built)
    execFileSync(process.execPath, [join(PROJECT_ROOT, "launcher/build.mjs"), "--with-test-fleet"], {
      cwd: PROJECT_ROOT,
      stdio: "inherit",
    });
  built = true;
  return BUILT_AGENT;
}

/**
 * A real agent process (the built agent, dist/mesh-agent.js) with the given executors, waited for until the registry
 * lists it online.
 */
export async function startAgent(
  mesh: Mesh,
  name: string,
  executors: ExecutorsFile,
  options: { kind?: "mac" | "vm"; capacity?: number; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<TestAgent> {
  buildAgentOnce();
  const dir = mkdtempSync(join(tmpdir(), "mesh-agent-"));
  const file = join(dir, "executors.json");
  writeFileSync(file, JSON.stringify(executors));
  const output: string[] = [];
  const child = startAgentProcess({
    server: mesh.url,
    name,
    kind: options.kind ?? "vm",
    executorsFile: file,
    agentToken: mesh.agentToken,
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    // Its state (its credential, worktrees) per name and mesh, so an agent started again under its name is the same
    // agent (docs/agent-identity.md), unless the test names a folder.
    args: [
      ...(options.args?.includes("--state-dir") ? [] : ["--state-dir", join(`${mesh.persistDir}-agents`, name)]),
      ...(options.args ?? []),
    ],
    onLine: (line) => output.push(line),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const agent: TestAgent = {
    name,
    process: child,
    output,
    executorsFile: file,
    async stop() {
      await stopGroup(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitFor(`agent ${name} online`, async () => {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${output.join("\n")}`);
    const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
    return body.agents.some((a) => a.name === name && a.state === "online");
  }).catch((error: unknown) => {
    void agent.stop();
    throw new Error(`${String(error)}\nagent output:\n${output.join("\n")}`);
  });
  return agent;
}

/**
 * An agent process the mesh should refuse: waits for it to exit (at most `timeoutMs`) and returns its exit code and
 * output.
 */
export async function startRefusedAgent(
  mesh: Mesh,
  name: string,
  executors: ExecutorsFile,
  stateDir: string,
  timeoutMs = 15_000,
): Promise<{ code: number | null; output: string }> {
  buildAgentOnce();
  const dir = mkdtempSync(join(tmpdir(), "mesh-agent-"));
  const file = join(dir, "executors.json");
  writeFileSync(file, JSON.stringify(executors));
  const output: string[] = [];
  const child = startAgentProcess({
    server: mesh.url,
    name,
    kind: "vm",
    executorsFile: file,
    agentToken: mesh.agentToken,
    args: ["--state-dir", stateDir],
    onLine: (line) => output.push(line),
  });
  try {
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      child.once("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    return { code, output: output.join("\n") };
  } finally {
    await stopGroup(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An executors file whose every listed tier runs `command`. */
export function executorsFor(
  command: string[],
  tiers: Array<keyof ExecutorsFile["executors"]> = ["sonnet", "deepseek"],
  timeout_s = 120,
): ExecutorsFile {
  const executors: ExecutorsFile["executors"] = {};
  for (const tier of tiers) executors[tier] = { command, format: "text", timeout_s };
  return { executors };
}

/** A viewer socket on one task room: collects lines and snapshots as the browser page would. */
export class TaskViewer {
  readonly lines: LogLine[] = [];
  readonly errors: string[] = [];
  task: TaskRecord | null = null;
  private constructor(readonly socket: WebSocket) {
    socket.on("message", (raw) => {
      const parsed = parseMessage(TaskToViewer, raw.toString());
      if (!parsed.ok) {
        this.errors.push(parsed.error.message);
        return;
      }
      const message = parsed.value;
      if (message.type === "log.lines") this.lines.push(...message.lines);
      else if (message.type === "task.snapshot") this.task = message.task;
      else this.errors.push(`${message.code}: ${message.message}`);
    });
  }

  static async open(mesh: Mesh, taskId: string, token = mesh.orchestratorToken, sinceSeq = 0): Promise<TaskViewer> {
    const socket = new WebSocket(
      `ws://127.0.0.1:${mesh.port}/parties/task/${taskId}?token=${encodeURIComponent(token)}`,
    );
    // Listen before the socket opens: the room's first frame can arrive in the same read as the upgrade.
    const viewer = new TaskViewer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
      socket.once("error", reject);
    });
    socket.send(JSON.stringify({ type: "logs.subscribe", since_seq: sinceSeq }));
    return viewer;
  }

  close(): void {
    this.socket.close();
  }
}

/** The status code a refused WebSocket upgrade answered with. */
export async function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once("open", () => {
      socket.close();
      resolve(101);
    });
    socket.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once("error", reject);
  });
}

export type Fleet = { names: string[]; process: ChildProcess; stop(): Promise<void> };

/**
 * Many real agents (the real runtime, each with its own socket, hello and heartbeats) in one child
 * process (built, dist/agent-fleet.js), so a load test can run hundreds on one machine.
 */
export async function startFleet(mesh: Mesh, count: number, prefix: string, executors: ExecutorsFile): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), "mesh-fleet-"));
  const file = join(dir, "executors.json");
  writeFileSync(file, JSON.stringify(executors));
  buildAgentOnce();
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, "dist/agent-fleet.js"), mesh.url, String(count), prefix, file],
    {
      cwd: PROJECT_ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, MESH_AGENT_TOKEN: mesh.agentToken },
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("started")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the fleet exited with ${code}`)));
  });
  return {
    names: Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
    process: child,
    async stop() {
      await stopGroup(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a process of this pid still exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
