// `npm run bench` (full) and `npm run bench -- --ci` (reduced, under 2 minutes): one markdown
// table measured in one run, each row with its figure, its goal and a verdict. Exits
// non-zero only on a collapse: a lost or duplicated line, a row more than 5× off its goal, or a row
// that could not be measured. See bench/README.md.
import { type Mesh, startMesh } from "../test/integration/mesh-harness.ts";
import { agentLoss } from "./agent-loss.ts";
import { measureWorktreeOverhead } from "./attempt-worktree-overhead.ts";
import { type BenchPlan, benchPlan, type Section } from "./bench-plan.ts";
import { anyCollapse, fmt, type Row, renderTable } from "./bench-table.ts";
import { dispatchLatency } from "./dispatch-latency.ts";
import { executeRoundTrip } from "./execute-round-trip.ts";
import {
  agentLossRow,
  dispatchRow,
  executeRow,
  failedRow,
  GOAL,
  heartbeatRow,
  idleRssRow,
  lineLatencyRow,
  memoryRow,
  throughputRow,
  worktreeRow,
} from "./goal-rows.ts";
import { heartbeatCpu } from "./heartbeat-cpu.ts";
import { idleAgentRss } from "./idle-agent-rss.ts";
import { lineLatency } from "./line-latency.ts";
import { agentAfterTasksRow, serverAfterStreamRow, serverAfterViewersRow, serverIdleRow } from "./memory-rows.ts";
import { meshManyStreams, meshOneStream } from "./mesh-throughput.ts";
import { metricsRow, scrapeTimes } from "./metrics-scrape.ts";
import { agentRssAfterTasks, settledServerRss, viewerChurn } from "./server-memory.ts";
import type { ServerRss } from "./server-rss.ts";
import { StartGate } from "./start-gate.ts";
import { stopAllOnSignal, stoppedAfter } from "./stopped-after.ts";
import { WEBHOOK_LATENCY_RATIO, webhookLatency, webhookRow } from "./webhook-latency.ts";
import { wsBaseline } from "./ws-baseline.ts";

/** The bench creates thousands of tasks: a budget halt would refuse them, and it is not what is measured. */
const BENCH_MESH_SETTINGS = { MESH_DAILY_HALT_USD: "1000000" };

/** Rows in the table's order, filled as parts finish. */
type Rows = Partial<Record<Section, Row[]>>;

async function measured(
  rows: Rows,
  section: Section,
  fallback: { name: string; goal: string },
  measure: () => Promise<Row[]>,
): Promise<void> {
  const startedAt = performance.now();
  console.error(`bench: ${section}…`);
  try {
    rows[section] = await measure();
  } catch (error) {
    console.error(`bench: ${section} failed:`, error);
    rows[section] = [failedRow(fallback.name, fallback.goal, error)];
  }
  console.error(`bench: ${section} took ${fmt((performance.now() - startedAt) / 1000, 1)} s`);
}

/** Rows measured on one mesh (default settings but the budget): throughput, latency, memory, execute, loss. */
async function onMainMesh(plan: BenchPlan, rows: Rows, mesh: Mesh): Promise<void> {
  const run = plan.sections;
  // The server's memory before any row touched it: the reference of the memory rows (docs/memory.md).
  const idleServer = run.has("memory") ? await settledServerRss(mesh) : null;
  const afterStream: { value?: { rss: ServerRss; lines: number; wsServerMiB: number } } = {};
  if (run.has("stream")) {
    await measured(
      rows,
      "stream",
      { name: "output agent → task room → viewer, one stream", goal: `≥ ${GOAL.oneStreamRatio}× plain ws` },
      () =>
        stoppedAfter(gateResource(), async ({ gate }) => {
          const file = gate.linesFile(plan.oneStreamLines);
          const mesh1 = await meshOneStream(mesh, gate, plan.oneStreamLines, file);
          const ws1 = await wsBaseline(gate, 1, plan.oneStreamLines, file);
          if (run.has("memory"))
            afterStream.value = {
              rss: await settledServerRss(mesh),
              lines: plan.oneStreamLines,
              wsServerMiB: ws1.serverRss,
            };
          return [throughputRow(1, plan.oneStreamLines, mesh1, ws1, GOAL.oneStreamRatio), memoryRow(mesh1, ws1)];
        }),
    );
  }
  if (idleServer !== null) {
    const idle = idleServer;
    await measured(
      rows,
      "memory",
      { name: "mesh server RSS after viewers opened and closed", goal: "workerd ≤ 2× idle" },
      async () => {
        const stream = afterStream.value;
        const churn = await viewerChurn(mesh, plan.viewerChurn);
        return [
          serverIdleRow(idle),
          ...(stream === undefined ? [] : [serverAfterStreamRow(idle, stream.rss, stream.lines, stream.wsServerMiB)]),
          serverAfterViewersRow(idle, churn),
        ];
      },
    );
  }
  if (run.has("streams")) {
    await measured(
      rows,
      "streams",
      { name: `output, ${plan.streams} concurrent streams and viewers`, goal: `≥ ${GOAL.manyStreamsRatio}× plain ws` },
      () =>
        stoppedAfter(gateResource(), async ({ gate }) => {
          const file = gate.linesFile(plan.linesPerStream);
          const meshN = await meshManyStreams(mesh, gate, plan.streams, plan.linesPerStream, file);
          const wsN = await wsBaseline(gate, plan.streams, plan.linesPerStream, file);
          return [throughputRow(plan.streams, plan.linesPerStream, meshN, wsN, GOAL.manyStreamsRatio)];
        }),
    );
  }
  if (run.has("latency")) {
    await measured(
      rows,
      "latency",
      { name: "CLI line → viewer latency at 1,000 lines/s", goal: `p99 ≤ ${GOAL.lineLatencyP99Ms} ms` },
      () =>
        stoppedAfter(gateResource(), async ({ gate }) => [
          lineLatencyRow(await lineLatency(mesh, gate, plan.latencySeconds)),
        ]),
    );
  }
  if (run.has("idle")) {
    await measured(rows, "idle", { name: "idle agent RSS", goal: `≤ ${GOAL.idleAgentMB} MB` }, async () => [
      idleRssRow(await idleAgentRss(mesh, plan.idleSeconds), plan.idleSeconds),
      agentAfterTasksRow(await agentRssAfterTasks(mesh, plan.agentTasks, plan.idleSeconds), plan.idleSeconds),
    ]);
  }
  if (run.has("execute")) {
    await measured(
      rows,
      "execute",
      { name: "MCP `execute` round trip", goal: `p50 ≤ ${GOAL.executeP50Ms} ms` },
      async () => [executeRow(await executeRoundTrip(mesh, plan.executes))],
    );
  }
  if (run.has("loss")) {
    await measured(
      rows,
      "loss",
      { name: "agent SIGKILLed → `agent_lost`", goal: `≤ ${GOAL.agentLossMs / 1000} s` },
      async () => [agentLossRow(await agentLoss(mesh, plan.deaths))],
    );
  }
  // Last on this mesh: the scrape is timed with every task the rows above left in it (docs/metrics.md).
  if (run.has("metrics")) {
    await measured(rows, "metrics", { name: "`GET /metrics` scrape", goal: "p50 ≤ 20 ms" }, async () => [
      metricsRow(await scrapeTimes(mesh, plan.mode === "ci" ? 50 : 200)),
    ]);
  }
}

/** A start gate as a resource, so it is removed with everything else. */
function gateResource(): { gate: StartGate; stop(): Promise<void> } {
  const gate = new StartGate();
  return { gate, stop: async () => gate.close() };
}

const ROW_ORDER: readonly Section[] = [
  "dispatch",
  "execute",
  "stream",
  "memory",
  "streams",
  "latency",
  "idle",
  "loss",
  "metrics",
  "heartbeats",
  "worktree",
  "webhooks",
];

const plan = benchPlan(process.argv.slice(2), process.env);
stopAllOnSignal();
const startedAt = performance.now();
console.error(
  `bench: ${plan.mode} mode; dispatch at ${plan.dispatchLevels.join("/")} agents × ${plan.dispatchSamples}; ${fmt(plan.oneStreamLines)} lines in one stream; ` +
    `${plan.streams} streams × ${fmt(plan.linesPerStream)} lines; ${plan.executes} executes; ${plan.latencySeconds} s at 1,000 lines/s; ${plan.deaths} kills; ${plan.heartbeatFleet} agents heartbeating`,
);
const rows: Rows = {};
// Dispatch first, on a mesh of its own: before the other rows leave hundreds of task rooms and a
// machine still busy stopping fleets behind them (their teardown showed in its p50).
if (plan.sections.has("dispatch")) {
  await measured(
    rows,
    "dispatch",
    {
      name: "dispatch: POST /api/tasks → `task.assign`",
      goal: `p50 ≤ ${GOAL.dispatchP50Ms} ms, p99 ≤ ${GOAL.dispatchP99Ms} ms`,
    },
    async () =>
      stoppedAfter(await startMesh(BENCH_MESH_SETTINGS), async (mesh) =>
        (await dispatchLatency(mesh, plan.dispatchLevels, plan.dispatchSamples)).map(dispatchRow),
      ),
  );
}
const mainSections: readonly Section[] = [
  "stream",
  "memory",
  "streams",
  "latency",
  "idle",
  "execute",
  "loss",
  "metrics",
];
if (mainSections.some((section) => plan.sections.has(section))) {
  await stoppedAfter(await startMesh(BENCH_MESH_SETTINGS), (mesh) => onMainMesh(plan, rows, mesh));
}
if (plan.sections.has("heartbeats")) {
  await measured(
    rows,
    "heartbeats",
    {
      name: `dev server with ${plan.heartbeatFleet} agents heartbeating`,
      goal: `≤ ${GOAL.heartbeatCpuShare * 100} % of one core`,
    },
    async () => [
      heartbeatRow(
        plan.heartbeatFleet,
        plan.heartbeatWindowS,
        await heartbeatCpu(plan.heartbeatFleet, plan.heartbeatWindowS),
      ),
    ],
  );
}
if (plan.sections.has("worktree") && plan.worktreeSamples > 0) {
  await measured(
    rows,
    "worktree",
    { name: "worktree overhead per attempt", goal: `median < ${GOAL.worktreeMedianMs} ms` },
    async () => [
      worktreeRow(await measureWorktreeOverhead(plan.worktreeSamples, "cold", plan.worktreeFiles)),
      worktreeRow(await measureWorktreeOverhead(plan.worktreeSamples, "warm", plan.worktreeFiles)),
    ],
  );
}
// Full bench only (or BENCH_ONLY=webhooks): two meshes of its own cost ~30 s, more than --ci's budget allows for one
// row.
if (plan.sections.has("webhooks") && (plan.mode === "full" || (process.env.BENCH_ONLY ?? "").includes("webhooks"))) {
  await measured(
    rows,
    "webhooks",
    { name: "task latency with a 10 s webhook target vs none", goal: `≤ ${WEBHOOK_LATENCY_RATIO}× without` },
    async () => [webhookRow(await webhookLatency(plan.mode === "ci" ? 5 : 30))],
  );
}
const table = ROW_ORDER.flatMap((section) => rows[section] ?? []);
console.log(`\n${renderTable(table)}\n`);
console.log(`${plan.mode} bench, ${fmt((performance.now() - startedAt) / 1000, 0)} s, on ${new Date().toISOString()}`);
process.exit(anyCollapse(table) ? 1 : 0);
