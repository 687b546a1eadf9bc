// How much each row measures, in the full bench and in the reduced one CI runs. Every count can be
// overridden by an environment variable (for development: small counts, or BENCH_ONLY to run some rows).

export type BenchMode = "full" | "ci";

/** A part of the bench, run in this order; BENCH_ONLY=dispatch,stream picks some. */
export const SECTIONS = [
  "stream",
  "memory",
  "latency",
  "idle",
  "execute",
  "loss",
  "metrics",
  "dispatch",
  "streams",
  "heartbeats",
  "worktree",
  "webhooks",
] as const;
export type Section = (typeof SECTIONS)[number];

export type BenchPlan = {
  mode: BenchMode;
  sections: ReadonlySet<Section>;
  /** Lines of the one-stream throughput row (192 bytes each). */
  oneStreamLines: number;
  /** Concurrent streams (and viewers) of the many-stream row, and lines per stream. */
  streams: number;
  linesPerStream: number;
  /** Connected agents at which dispatch is measured, and timed dispatches at each. */
  dispatchLevels: number[];
  dispatchSamples: number;
  executes: number;
  /** Seconds of 1,000 lines/s for the line → viewer latency row. */
  latencySeconds: number;
  /** Seconds an agent sits idle before its RSS is read. */
  idleSeconds: number;
  /** Agents killed for the agent-loss row (each takes 10-16 s at the default 5 s beat). */
  deaths: number;
  /** Agents heartbeating for the server CPU row, and the window the CPU is read over. */
  heartbeatFleet: number;
  heartbeatWindowS: number;
  /** Attempts timed per worktree row, cold and warm (0: the rows are not run). */
  worktreeSamples: number;
  /** Files in the worktree rows' generated repository (10,000 in full mode, fewer in CI to stay within ~20 s). */
  worktreeFiles: number;
  /** Viewers that open a task's watch link, subscribe and close, for the server memory row. */
  viewerChurn: number;
  /** No-op tasks an agent runs before its RSS is read again. */
  agentTasks: number;
};

export const LINE_BYTES = 192;
export const LATENCY_RATE = 1000;

const FULL: Omit<BenchPlan, "mode" | "sections"> = {
  oneStreamLines: 100_000,
  streams: 200,
  linesPerStream: 2_500,
  dispatchLevels: [10, 100, 1000],
  dispatchSamples: 200,
  executes: 50,
  latencySeconds: 15,
  idleSeconds: 5,
  deaths: 3,
  heartbeatFleet: 1000,
  heartbeatWindowS: 20,
  worktreeSamples: 15,
  worktreeFiles: 10_000,
  viewerChurn: 5_000,
  agentTasks: 25,
};

// Under 2 minutes on a shared 2-core machine: enough samples to see a collapse, not to rank a wobble.
const CI: Omit<BenchPlan, "mode" | "sections"> = {
  oneStreamLines: 20_000,
  streams: 200,
  linesPerStream: 150,
  dispatchLevels: [10, 100, 1000],
  dispatchSamples: 40,
  executes: 10,
  latencySeconds: 4,
  idleSeconds: 5,
  deaths: 1,
  heartbeatFleet: 1000,
  heartbeatWindowS: 6,
  // Checking out 10,000 files takes seconds on a slow disk: CI times a smaller repository, the label says so.
  worktreeSamples: 5,
  worktreeFiles: 1_000,
  viewerChurn: 1_000,
  agentTasks: 25,
};

function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

/** The plan for `--ci` (or BENCH_MODE=ci) or the full bench, with the environment's overrides. */
export function benchPlan(argv: readonly string[], env: NodeJS.ProcessEnv): BenchPlan {
  const mode: BenchMode = argv.includes("--ci") || env.BENCH_MODE === "ci" ? "ci" : "full";
  const base = mode === "ci" ? CI : FULL;
  const only = (env.BENCH_ONLY ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: unknown section(s) ${unknown.join(", ")}; use ${SECTIONS.join(", ")}`);
  const levels =
    env.BENCH_DISPATCH_LEVELS === undefined ? base.dispatchLevels : env.BENCH_DISPATCH_LEVELS.split(",").map(Number);
  if (levels.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`BENCH_DISPATCH_LEVELS must be positive integers, got '${env.BENCH_DISPATCH_LEVELS}'`);
  return {
    mode,
    sections: new Set(only.length === 0 ? SECTIONS : (only as Section[])),
    oneStreamLines: count(env, "BENCH_LINES", base.oneStreamLines),
    streams: count(env, "BENCH_STREAMS", base.streams),
    linesPerStream: count(env, "BENCH_STREAM_LINES", base.linesPerStream),
    dispatchLevels: [...levels].sort((a, b) => a - b),
    dispatchSamples: count(env, "BENCH_DISPATCHES", base.dispatchSamples),
    executes: count(env, "BENCH_EXECUTES", base.executes),
    latencySeconds: count(env, "BENCH_LATENCY_S", base.latencySeconds),
    idleSeconds: count(env, "BENCH_IDLE_S", base.idleSeconds),
    deaths: count(env, "BENCH_DEATHS", base.deaths),
    heartbeatFleet: count(env, "BENCH_FLEET", base.heartbeatFleet),
    heartbeatWindowS: count(env, "BENCH_FLEET_WINDOW_S", base.heartbeatWindowS),
    viewerChurn: count(env, "BENCH_VIEWERS", base.viewerChurn),
    agentTasks: count(env, "BENCH_AGENT_TASKS", base.agentTasks),
    worktreeSamples:
      env.BENCH_WORKTREES === undefined ? base.worktreeSamples : count(env, "BENCH_WORKTREES", base.worktreeSamples),
    worktreeFiles: count(env, "BENCH_WORKTREE_FILES", base.worktreeFiles),
  };
}
