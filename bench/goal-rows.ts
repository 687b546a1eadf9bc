// What each row of the table says: its figure, and the goal it is held to.

import { LATENCY_RATE, LINE_BYTES } from "./bench-plan.ts";
import { percentile } from "./bench-stats.ts";
import { fmt, type Row } from "./bench-table.ts";
import type { DispatchLevel } from "./dispatch-latency.ts";
import type { HeartbeatLoad } from "./heartbeat-cpu.ts";
import type { LatencyResult } from "./line-latency.ts";
import type { StreamsResult } from "./line-tally.ts";
import type { OneStreamResult } from "./mesh-throughput.ts";
import type { BaselineResult } from "./ws-baseline.ts";

export const GOAL = {
  dispatchP50Ms: 5,
  dispatchP99Ms: 25,
  executeP50Ms: 30,
  oneStreamRatio: 0.7,
  manyStreamsRatio: 0.3,
  lineLatencyP99Ms: 50,
  idleAgentMB: 60,
  /** Three missed 5 s beats + one 1 s watchdog tick (README "Keepalive and the watchdog"). */
  agentLossMs: 3 * 5_000 + 1_000,
  heartbeatCpuShare: 0.1,
  /** Worktree set-up + commit + diff per attempt on a 10,000-file repository. */
  worktreeMedianMs: 300,
} as const;

const MIB_IN_MB = 1.048576;

export function dispatchRow(level: DispatchLevel): Row {
  const p50 = percentile(level.samples, 50);
  const p99 = percentile(level.samples, 99);
  return {
    name: `dispatch: POST /api/tasks → \`task.assign\` on the agent's socket, ${fmt(level.agents)} agents connected (${level.samples.length} tasks)`,
    figure: `p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms (the HTTP answer: p50 ${fmt(percentile(level.answers, 50), 1)} ms)`,
    goal: `p50 ≤ ${GOAL.dispatchP50Ms} ms, p99 ≤ ${GOAL.dispatchP99Ms} ms`,
    checks: [
      { value: p50, goal: GOAL.dispatchP50Ms, direction: "at-most" },
      { value: p99, goal: GOAL.dispatchP99Ms, direction: "at-most" },
    ],
    ...(level.error === undefined ? {} : { error: level.error }),
  };
}

export function executeRow(samples: readonly number[]): Row {
  const p50 = percentile(samples, 50);
  return {
    name: `MCP \`execute\` round trip, no-op task, SDK client (${samples.length} calls)`,
    figure: `p50 ${fmt(p50, 1)} ms (p99 ${fmt(percentile(samples, 99), 1)} ms)`,
    goal: `p50 ≤ ${GOAL.executeP50Ms} ms`,
    checks: [{ value: p50, goal: GOAL.executeP50Ms, direction: "at-most" }],
  };
}

function throughputFigure(mesh: StreamsResult, baseline: BaselineResult): string {
  const baselineLoss =
    baseline.lost + baseline.duplicated > 0
      ? ` (plain ws itself lost ${baseline.lost}, repeated ${baseline.duplicated}: the bench is broken)`
      : "";
  return (
    `mesh ${fmt(mesh.linesPerSecond)} lines/s vs plain ws ${fmt(baseline.linesPerSecond)} lines/s = ${fmt(mesh.linesPerSecond / baseline.linesPerSecond, 2)}×; ` +
    `${fmt(mesh.lost)} lost, ${fmt(mesh.duplicated)} duplicated${baselineLoss}`
  );
}

export function throughputRow(
  streams: number,
  linesPerStream: number,
  mesh: StreamsResult,
  baseline: BaselineResult,
  goalRatio: number,
): Row {
  const label = streams === 1 ? "one stream" : `${fmt(streams)} concurrent streams and viewers`;
  return {
    name: `output agent → task room → viewer, ${label} (${fmt(streams * linesPerStream)} lines × ${LINE_BYTES} B), against plain \`ws\` in the same run`,
    figure: throughputFigure(mesh, baseline),
    goal: `≥ ${goalRatio}× plain ws; no line lost or duplicated`,
    checks: [{ value: mesh.linesPerSecond / baseline.linesPerSecond, goal: goalRatio, direction: "at-least" }],
    integrity: { lost: mesh.lost, duplicated: mesh.duplicated },
    ...(baseline.lost + baseline.duplicated > 0 ? { error: throughputFigure(mesh, baseline) } : {}),
  };
}

export function lineLatencyRow(result: LatencyResult): Row {
  const p99 = percentile(result.samples, 99);
  const missing = result.expected - result.samples.length;
  return {
    name: `CLI line → viewer latency at a steady ${fmt(LATENCY_RATE)} lines/s (${fmt(result.expected)} lines)`,
    figure:
      `p50 ${fmt(percentile(result.samples, 50), 1)} ms, p99 ${fmt(p99, 1)} ms, max ${fmt(Math.max(...result.samples), 1)} ms; ` +
      `${fmt(result.samples.filter((ms) => ms > GOAL.lineLatencyP99Ms).length)} lines over ${GOAL.lineLatencyP99Ms} ms${missing === 0 ? "" : `; ${fmt(missing)} lines missing`}`,
    goal: `p99 ≤ ${GOAL.lineLatencyP99Ms} ms`,
    checks: [{ value: p99, goal: GOAL.lineLatencyP99Ms, direction: "at-most" }],
    integrity: { lost: Math.max(0, missing), duplicated: Math.max(0, -missing) },
  };
}

export function idleRssRow(mib: number, idleSeconds: number): Row {
  const mb = mib * MIB_IN_MB;
  return {
    name: `idle agent RSS (the agent startAgent starts, connected, idle ${fmt(idleSeconds)} s; whole process group)`,
    figure: `${fmt(mb, 1)} MB (${fmt(mib, 1)} MiB)`,
    goal: `≤ ${GOAL.idleAgentMB} MB`,
    checks: [{ value: mb, goal: GOAL.idleAgentMB, direction: "at-most" }],
  };
}

export function agentLossRow(samples: readonly number[]): Row {
  const worst = Math.max(...samples);
  return {
    name: `agent SIGKILLed while running an attempt → attempt \`agent_lost\`, default 5 s heartbeat (${samples.length} kills)`,
    figure: `median ${fmt(percentile(samples, 50) / 1000, 1)} s, max ${fmt(worst / 1000, 1)} s`,
    goal: `≤ 3 beats + 1 s tick = ${GOAL.agentLossMs / 1000} s`,
    checks: [{ value: worst, goal: GOAL.agentLossMs, direction: "at-most" }],
  };
}

export function heartbeatRow(agents: number, windowS: number, load: HeartbeatLoad): Row {
  return {
    name: `dev server with ${fmt(agents)} real agents heartbeating every 5 s (${fmt(windowS)} s window)`,
    figure: `${fmt(load.cpuShare * 100, 1)} % of one core, ${fmt(load.rss)} MiB; ${fmt(load.online)} online`,
    goal: `≤ ${GOAL.heartbeatCpuShare * 100} % of one core`,
    checks: [{ value: load.cpuShare, goal: GOAL.heartbeatCpuShare, direction: "at-most" }],
  };
}

export function memoryRow(mesh: OneStreamResult, baseline: BaselineResult): Row {
  return {
    name: "memory after the one-stream row: mesh server (node + workerd) / agent / plain ws server",
    figure: `${fmt(mesh.serverRss)} MiB / ${fmt(mesh.agentRss)} MiB / ${fmt(baseline.serverRss)} MiB`,
    goal: "—",
    checks: [],
  };
}

/**
 * Cold: a new worktree per attempt; warm: a spare from the pool (docs/repositories.md "Warm worktrees"), timed on hits.
 */
export function worktreeRow(measured: {
  mode: "cold" | "warm" | "warm-lazy";
  files: number;
  times: readonly number[];
}): Row {
  const samples = measured.times;
  const median = percentile(samples, 50);
  const how = measured.mode === "cold" ? "cold (a new worktree)" : "warm (a pool hit)";
  return {
    name: `worktree set-up + commit + diff + removal per attempt, ${how}, ${fmt(measured.files)}-file repository${measured.files === 10_000 ? "" : " (the goal is for 10,000 files)"} (${samples.length} attempts)`,
    figure: `median ${fmt(median, 0)} ms, p99 ${fmt(percentile(samples, 99), 0)} ms`,
    goal: `median < ${GOAL.worktreeMedianMs} ms (report)`,
    checks: [{ value: median, goal: GOAL.worktreeMedianMs, direction: "at-most" }],
    reportOnly: true,
  };
}

/** A row that could not be measured. */
export function failedRow(name: string, goal: string, error: unknown): Row {
  return {
    name,
    figure: "",
    goal,
    checks: [],
    error: error instanceof Error ? (error.message.split("\n")[0] ?? String(error)) : String(error),
  };
}
