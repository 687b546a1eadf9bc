// `npm run bench`: one table, measured in one run on this machine, against a plain `ws` baseline.
//  (a) output throughput agent → task room → viewer, in lines/s (real server, real agent, real child)
//  (b) the same load through a plain `ws` broadcast server
//  (c) dispatch latency: task created → the agent holds it (its hello accepted by the task room)
//  (d) MCP `execute` round trip for a trivial task, through the SDK's own client
//  (e) time from an agent's death (SIGKILL) to its attempt being given up as agent_lost
//  (f) the dev server's CPU and memory with 1,000 real agents connected and heartbeating
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import WebSocket from "ws";
import { LineSplitter } from "../agents/runtime/line-splitter.ts";
import { OutputBatcher } from "../agents/runtime/output-batcher.ts";
import { stopGroup } from "../launcher/dev-server.ts";
import type { LogLine, TaskView } from "../protocol/index.ts";
import { FIXTURES, startAgent, startFleet, startMesh, waitFor, type Mesh } from "../test/integration/mesh-harness.ts";
import { groupCpuSeconds, groupRssMiB, percentile } from "./bench-stats.ts";

const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const LINE_BYTES = 192;
const DISPATCHES = Number(process.env.BENCH_DISPATCHES ?? 50);
const EXECUTES = Number(process.env.BENCH_EXECUTES ?? 30);
const DEATHS = Number(process.env.BENCH_DEATHS ?? 3);
const FLEET = Number(process.env.BENCH_FLEET ?? 1000);
const FLEET_WINDOW_S = 20;
const emitter = [process.execPath, join(import.meta.dirname, "emit-lines.mjs"), String(LINES), String(LINE_BYTES)];

type Throughput = { linesPerSecond: number; seconds: number; received: number };

/** Counts stdout lines arriving at a viewer socket: from the first line to the last. */
function countLines(socket: WebSocket, expected: number, pick: (frame: unknown) => number): Promise<Throughput> {
  return new Promise((resolve, reject) => {
    let first = 0;
    let received = 0;
    const timer = setTimeout(() => reject(new Error(`only ${received} of ${expected} lines arrived in 180 s`)), 180_000);
    socket.on("message", (raw) => {
      const count = pick(JSON.parse(raw.toString()));
      if (count === 0) return;
      if (received === 0) first = performance.now();
      received += count;
      if (received >= expected) {
        clearTimeout(timer);
        const seconds = (performance.now() - first) / 1000;
        resolve({ linesPerSecond: received / seconds, seconds, received });
      }
    });
  });
}

async function meshThroughput(mesh: Mesh): Promise<Throughput & { serverRss: number; agentRss: number }> {
  const agent = await startAgent(mesh, "bench-agent", { executors: { sonnet: { command: emitter, format: "text", timeout_s: 600 } } });
  try {
    const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "emit", executor: "sonnet" } });
    const viewer = new WebSocket(`ws://127.0.0.1:${mesh.port}/parties/task/${created.body.task_id}?token=${mesh.orchestratorToken}`);
    await once(viewer, "open");
    const counted = countLines(viewer, LINES, (frame) => {
      const message = frame as { type: string; lines?: LogLine[] };
      return message.type === "log.lines" ? (message.lines ?? []).filter((line) => line.stream === "stdout").length : 0;
    });
    viewer.send(JSON.stringify({ type: "logs.subscribe", since_seq: 0 }));
    const result = await counted;
    const serverRss = await groupRssMiB(mesh.serverPid());
    const agentRss = await groupRssMiB(agent.process.pid ?? 0);
    viewer.close();
    return { ...result, serverRss, agentRss };
  } finally {
    await agent.stop();
  }
}

/** The same child, the same line splitting and batching as the agent, through a plain ws relay. */
async function baselineThroughput(): Promise<Throughput & { serverRss: number }> {
  const server = spawn(process.execPath, [join(import.meta.dirname, "ws-broadcast-server.mjs")], { detached: true, stdio: ["ignore", "pipe", "inherit"] });
  try {
    const [portLine] = (await once(server.stdout, "data")) as [Buffer];
    const url = `ws://127.0.0.1:${Number(portLine.toString().trim())}`;
    const viewer = new WebSocket(url);
    const producer = new WebSocket(url);
    await Promise.all([once(viewer, "open"), once(producer, "open")]);
    const counted = countLines(viewer, LINES, (frame) => ((frame as { lines?: unknown[] }).lines ?? []).length);
    const batcher = new OutputBatcher({
      sink: (batch) => {
        producer.send(JSON.stringify({ type: "log.batch", attempt: 1, ...batch }));
        // A plain relay stores nothing: count the batch as acknowledged once it is handed over.
        queueMicrotask(() => batcher.acknowledge(batch.first_line + batch.lines.length));
        return true;
      },
    });
    const child = spawn(emitter[0] ?? "node", emitter.slice(1), { stdio: ["ignore", "pipe", "ignore"] });
    const splitter = new LineSplitter((text) => batcher.add({ stream: "stdout", text, ts: Date.now() }));
    child.stdout.on("data", (chunk: Buffer) => splitter.push(chunk));
    child.stdout.on("end", () => {
      splitter.end();
      batcher.flush();
    });
    const result = await counted;
    const serverRss = await groupRssMiB(server.pid ?? 0);
    viewer.close();
    producer.close();
    return { ...result, serverRss };
  } finally {
    await stopGroup(server);
  }
}

/** The trivial executor of (c) and (d): a process that exits at once. */
const noop = { command: ["/bin/true"], format: "text" as const, timeout_s: 60 };

async function executeRoundTrip(mesh: Mesh): Promise<number[]> {
  const agent = await startAgent(mesh, "bench-mcp", { executors: { deepseek: noop } });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${mesh.orchestratorToken}` } } }));
  const samples: number[] = [];
  try {
    for (let i = 0; i < EXECUTES; i++) {
      const started = performance.now();
      const result = (await client.callTool({ name: "execute", arguments: { instruction: `noop ${i}`, wait_s: 30 } })) as CallToolResult;
      samples.push(performance.now() - started);
      const status = (result.structuredContent as { status?: string } | undefined)?.status;
      if (status !== "succeeded") throw new Error(`execute ended ${status}: ${JSON.stringify(result.content)}`);
    }
  } finally {
    await client.close();
    await agent.stop();
  }
  return samples;
}

/** Kills the agent running an attempt and times how long until the mesh gives the attempt up. */
async function deathToLost(heartbeatS: number): Promise<number[]> {
  const mesh = await startMesh({ MESH_HEARTBEAT_S: String(heartbeatS) });
  const samples: number[] = [];
  try {
    const slow = { command: [process.execPath, join(FIXTURES, "sleeper.mjs"), "/dev/null"], format: "text" as const, timeout_s: 120 };
    for (let i = 0; i < DEATHS; i++) {
      const agent = await startAgent(mesh, `doomed-${i}`, { executors: { codex: slow } });
      const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "run", executor: "codex", agent: `doomed-${i}` } });
      await waitFor("the attempt to run", async () => (await mesh.task(created.body.task_id)).attempts[0]?.status === "running");
      const killedAt = Date.now();
      agent.process.kill("SIGKILL");
      await waitFor("agent_lost", async () => (await mesh.task(created.body.task_id)).attempts[0]?.failure_class === "agent_lost", 60_000, 25);
      samples.push(Date.now() - killedAt);
      await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
      await agent.stop();
    }
  } finally {
    await mesh.stop();
  }
  return samples;
}

/** The dev server's CPU (share of one core) and memory while a fleet of real agents heartbeats at the default rate. */
async function fleetLoad(): Promise<{ cpuShare: number; rss: number; online: number }> {
  const mesh = await startMesh();
  try {
    const fleet = await startFleet(mesh, FLEET, "bench-fleet", { executors: { opus: noop } });
    try {
      await waitFor(`${FLEET} agents online`, async () => (await mesh.api<{ agents: Array<{ state: string }> }>("/api/agents")).body.agents.filter((a) => a.state === "online").length === FLEET, 180_000, 500);
      const before = await groupCpuSeconds(mesh.serverPid());
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, FLEET_WINDOW_S * 1000));
      const cpu = (await groupCpuSeconds(mesh.serverPid())) - before;
      const online = (await mesh.api<{ agents: Array<{ state: string }> }>("/api/agents")).body.agents.filter((a) => a.state === "online").length;
      return { cpuShare: cpu / ((performance.now() - started) / 1000), rss: await groupRssMiB(mesh.serverPid()), online };
    } finally {
      await fleet.stop();
    }
  } finally {
    await mesh.stop();
  }
}

async function dispatchLatency(mesh: Mesh): Promise<number[]> {
  const agent = await startAgent(mesh, "bench-dispatch", { executors: { opus: noop } });
  const samples: number[] = [];
  try {
    for (let i = 0; i < DISPATCHES; i++) {
      const before = Date.now();
      const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: `noop ${i}`, executor: "opus" } });
      const task = await waitFor("the attempt to start", async () => {
        const current = await mesh.task(created.body.task_id);
        return current.attempts[0]?.started_at !== undefined && current.status !== "running" ? current : null;
      }, 30_000, 20);
      samples.push((task.attempts[0]?.started_at ?? before) - before);
    }
  } finally {
    await agent.stop();
  }
  return samples;
}

const fmt = (n: number, digits = 0): string => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

console.error(`bench: ${LINES} lines of ${LINE_BYTES} bytes; ${DISPATCHES} dispatches`);
const mesh = await startMesh();
try {
  console.error("bench: (a) mesh throughput…");
  const a = await meshThroughput(mesh);
  console.error("bench: (b) plain ws baseline…");
  const b = await baselineThroughput();
  console.error("bench: (c) dispatch latency…");
  const c = await dispatchLatency(mesh);
  console.error("bench: (d) MCP execute round trip…");
  const d = await executeRoundTrip(mesh);
  console.error("bench: (e) agent death → agent_lost…");
  const e = await deathToLost(1);
  console.error(`bench: (f) ${FLEET} agents heartbeating…`);
  const f = await fleetLoad();
  console.log(`
| measure | value |
|---|---|
| (a) mesh: agent → task room → viewer (${fmt(LINES)} lines × ${LINE_BYTES} B) | ${fmt(a.linesPerSecond)} lines/s (${fmt(a.seconds, 2)} s) |
| (b) plain \`ws\` broadcast server, same child, same batching | ${fmt(b.linesPerSecond)} lines/s (${fmt(b.seconds, 2)} s) |
| ratio a / b | ${fmt(a.linesPerSecond / b.linesPerSecond, 2)} |
| (c) dispatch latency, created → agent holds it (${DISPATCHES} tasks) | median ${fmt(percentile(c, 50))} ms, p99 ${fmt(percentile(c, 99))} ms |
| (d) MCP \`execute\` round trip, trivial task (${EXECUTES} calls) | median ${fmt(percentile(d, 50))} ms, p99 ${fmt(percentile(d, 99))} ms |
| (e) agent killed → its attempt \`agent_lost\` (heartbeat 1 s, bound 3 beats + 1 s tick; ${DEATHS} kills) | median ${fmt(percentile(e, 50))} ms, max ${fmt(Math.max(...e))} ms |
| (f) dev server with ${fmt(FLEET)} real agents heartbeating every 5 s (${FLEET_WINDOW_S} s window) | ${fmt(f.cpuShare * 100, 1)} % of one core, ${fmt(f.rss)} MiB; ${fmt(f.online)} online |
| memory after (a): mesh server (node + workerd) / agent / plain ws server | ${fmt(a.serverRss)} MiB / ${fmt(a.agentRss)} MiB / ${fmt(b.serverRss)} MiB |
`);
} finally {
  await mesh.stop();
}
