// Output throughput through the mesh (agent → task room → viewer): real agents run the gated
// child, one task per agent, one viewer per task; lines/s from the gate's opening to the last line.
import type { ExecutorsFile } from "../protocol/index.ts";
import { type Mesh, startAgent, startFleet } from "../test/integration/mesh-harness.ts";
import { groupRssMiB } from "./bench-stats.ts";
import { LineTally, type StreamsResult, spreadNote, streamsOutcome } from "./line-tally.ts";
import type { StartGate } from "./start-gate.ts";
import { stoppedAfter } from "./stopped-after.ts";
import { MeshStreamViewer } from "./stream-viewers.ts";
import { createTargetedTask } from "./targeted-task.ts";

const STALL_MS = 15_000;
/** Tasks created at once: enough to be quick, few enough not to measure a burst of creations. */
const CREATE_CONCURRENCY = 10;

function gatedExecutors(gate: StartGate, linesFile: string): ExecutorsFile {
  return { executors: { deepseek: { command: gate.command(["cat", linesFile]), format: "text", timeout_s: 600 } } };
}

/** One task per agent, a viewer on each, every attempt running; then the gate opens. */
async function streamThrough(
  mesh: Mesh,
  agents: readonly string[],
  gate: StartGate,
  linesPerStream: number,
): Promise<StreamsResult> {
  const tallies = agents.map(() => new LineTally(linesPerStream));
  const taskIds: string[] = [];
  const viewers: MeshStreamViewer[] = [];
  try {
    for (let i = 0; i < agents.length; i += CREATE_CONCURRENCY) {
      const batch = agents.slice(i, i + CREATE_CONCURRENCY).map(async (agent, j) => {
        const tally = tallies[i + j] as LineTally;
        const taskId = await createTargetedTask(mesh, agent, `bench stream ${i + j}`);
        taskIds[i + j] = taskId;
        viewers.push(
          await MeshStreamViewer.open(mesh.port, mesh.orchestratorToken, taskId, (text, at) => tally.add(text, at)),
        );
      });
      await Promise.all(batch);
    }
    await Promise.all(viewers.map((viewer) => viewer.running));
    await gate.childrenWaiting(agents.length);
    const openedAt = gate.open(agents.length);
    const outcome = await streamsOutcome(tallies, openedAt, STALL_MS);
    console.error(spreadNote(`mesh, ${agents.length} stream(s)`, outcome));
    if (outcome.lost + outcome.duplicated > 0) await describeIncomplete(mesh, tallies, taskIds);
    return outcome;
  } finally {
    for (const viewer of viewers) viewer.close();
  }
}

/** Says on stderr what became of a few streams that lost or repeated lines, for whoever reads the failure. */
async function describeIncomplete(
  mesh: Mesh,
  tallies: readonly LineTally[],
  taskIds: readonly string[],
): Promise<void> {
  const incomplete = tallies.flatMap((tally, i) => (tally.lost + tally.duplicated > 0 ? [i] : []));
  console.error(`bench: ${incomplete.length} of ${tallies.length} streams lost or repeated lines`);
  for (const i of incomplete.slice(0, 5)) {
    const tally = tallies[i] as LineTally;
    const taskId = taskIds[i] ?? "";
    const task = await mesh.task(taskId).catch(() => null);
    const logs = await mesh
      .api<{ lines: Array<{ stream: string; text: string }> }>(`/api/tasks/${taskId}/logs?since_seq=0`)
      .catch(() => null);
    const stored = logs?.body.lines ?? [];
    const notes = stored.filter((line) => line.stream !== "stdout").map((line) => line.text);
    console.error(
      `bench:   stream ${i} (task ${taskId}): viewer saw ${tally.unique} of ${tally.expected} (+${tally.duplicated} repeated); ` +
        `the room stores ${stored.filter((line) => line.stream === "stdout").length} stdout lines; task ${task?.status}, attempt ${JSON.stringify(task?.attempts[0] ?? null)}; notes: ${notes.slice(-4).join(" / ")}`,
    );
  }
}

export type OneStreamResult = StreamsResult & { serverRss: number; agentRss: number };

/** One real agent process (as startAgent starts it) streaming the lines file to one viewer. */
export async function meshOneStream(
  mesh: Mesh,
  gate: StartGate,
  lines: number,
  linesFile: string,
): Promise<OneStreamResult> {
  return stoppedAfter(await startAgent(mesh, "bench-stream", gatedExecutors(gate, linesFile)), async (agent) => {
    const result = await streamThrough(mesh, [agent.name], gate, lines);
    return {
      ...result,
      serverRss: await groupRssMiB(mesh.serverPid()),
      agentRss: await groupRssMiB(agent.process.pid ?? 0),
    };
  });
}

/** `streams` real agents (one fleet process) streaming at once, each to its own viewer. */
export async function meshManyStreams(
  mesh: Mesh,
  gate: StartGate,
  streams: number,
  linesPerStream: number,
  linesFile: string,
): Promise<StreamsResult> {
  return stoppedAfter(
    await startFleet(mesh, streams, "bench-streams", gatedExecutors(gate, linesFile)),
    async (fleet) => {
      await waitOnline(mesh, fleet.names);
      return streamThrough(mesh, fleet.names, gate, linesPerStream);
    },
  );
}

/** A fleet says "started" before its agents have said hello: wait until the registry lists them all online. */
async function waitOnline(mesh: Mesh, names: readonly string[]): Promise<void> {
  const wanted = new Set(names);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { body } = await mesh.api<{ agents: Array<{ name: string; state: string }> }>("/api/agents");
    if (body.agents.filter((a) => wanted.has(a.name) && a.state === "online").length === wanted.size) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${wanted.size} fleet agents were not all online within 120 s`);
}
