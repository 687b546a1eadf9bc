// Dispatch latency as the goal is written: from the HTTP call `POST /api/tasks` to `task.assign`
// arriving on the chosen agent's socket, both timed by this process's clock. Each task names its
// agent (`agent`), so the figure is per socket; agents are picked evenly across the fleet, and one
// dispatch is measured at a time, after the previous attempt has ended and freed its slot.
import type { TaskView } from "../protocol/index.ts";
import type { Mesh } from "../test/integration/mesh-harness.ts";
import { type Assignment, ProtocolAgents } from "./protocol-agents.ts";
import { stoppedAfter } from "./stopped-after.ts";

/** Milliseconds from the call to `task.assign` (the figure), and to the HTTP answer (where the time goes). */
export type DispatchLevel = { agents: number; samples: number[]; answers: number[]; error?: string };
type DispatchSample = { assign: number; answer: number };

const ASSIGN_TIMEOUT_MS = 10_000;
/** Untimed dispatches before the first level: the first tasks pay for cold code paths in workerd. */
const WARMUP_DISPATCHES = 30;
/** After connecting a batch of agents, their hellos' writes and snapshots settle before timing. */
const SETTLE_MS = 1000;
/**
 * Between two timed dispatches: the previous task's tail (its settle in the budget, its index in the
 * directory, the registry's release notice) finishes first, so each sample times one dispatch, not
 * one dispatch racing the last one's bookkeeping through the same single-threaded rooms.
 */
const GAP_MS = 40;

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms).unref());
}

/** One dispatch to agent `index`: the time from the call to the assignment on its socket. */
async function timeDispatch(mesh: Mesh, agents: ProtocolAgents, index: number, label: string): Promise<DispatchSample> {
  const agent = agents.agent(index);
  const assigned = agent.nextAssignment();
  const startedAt = performance.now();
  const created = mesh
    .api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: label, executor: "deepseek", agent: agent.name },
    })
    .then((response) => ({ response, at: performance.now() }));
  // Awaited below unless the assignment never comes; then its failure is the timeout's, not an unhandled one.
  created.catch(() => {});
  const assignment: Assignment = await Promise.race([
    assigned,
    timeout(ASSIGN_TIMEOUT_MS, `task.assign for ${agent.name}`),
  ]);
  const { response, at: answeredAt } = await created;
  if (response.status !== 201) throw new Error(`POST /api/tasks → ${response.status} ${JSON.stringify(response.body)}`);
  if (assignment.taskId !== response.body.task_id)
    throw new Error(
      `${agent.name} was assigned ${assignment.taskId}, not the task just created (${response.body.task_id})`,
    );
  await assignment.finished;
  return { assign: assignment.receivedAt - startedAt, answer: answeredAt - startedAt };
}

/** p50/p99 samples at each fleet size in `levels` (ascending); the fleet grows between levels. */
export async function dispatchLatency(
  mesh: Mesh,
  levels: readonly number[],
  samplesPerLevel: number,
): Promise<DispatchLevel[]> {
  return stoppedAfter(
    new ProtocolAgents(`ws://127.0.0.1:${mesh.port}`, mesh.agentToken, "deepseek", "bench-dispatch"),
    async (agents) => {
      const results: DispatchLevel[] = [];
      for (const level of levels) {
        const samples: DispatchSample[] = [];
        try {
          await agents.growTo(level);
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          if (results.length === 0)
            for (let i = 0; i < WARMUP_DISPATCHES; i++) await timeDispatch(mesh, agents, i % level, `warm-up ${i}`);
          for (let i = 0; i < samplesPerLevel; i++) {
            const index = Math.floor(((i + 0.5) * level) / samplesPerLevel) % level;
            await new Promise((resolve) => setTimeout(resolve, GAP_MS));
            samples.push(await timeDispatch(mesh, agents, index, `dispatch ${level}/${i}`));
          }
        } catch (error) {
          // The levels measured so far keep their rows; this one, and the larger ones, report the failure.
          const message = error instanceof Error ? error.message : String(error);
          for (const failed of levels.filter((l) => l >= level))
            results.push({ agents: failed, samples: [], answers: [], error: message });
          return results;
        }
        results.push({ agents: level, samples: samples.map((s) => s.assign), answers: samples.map((s) => s.answer) });
        console.error(`bench:   ${level} agents: ${samples.length} dispatches`);
      }
      return results;
    },
  );
}
