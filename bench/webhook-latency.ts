// The webhook row (docs/notifications.md): a task's latency, POST /api/tasks to `succeeded`, on a
// mesh without webhooks and on one whose every task (notify: true) sends an event to a target that
// takes 10 s to answer (past the outbox's 5 s limit, so every request fails and is retried). The two
// meshes run side by side and the tasks alternate between them, so drift of the machine hits both.
import { type Mesh, startAgent, startMesh } from "../test/integration/mesh-harness.ts";
import { startReceiver } from "../test/integration/webhook-receivers.ts";
import { percentile } from "./bench-stats.ts";
import { fmt, type Row } from "./bench-table.ts";
import { NOOP_EXECUTORS } from "./execute-round-trip.ts";
import { stoppedAfter } from "./stopped-after.ts";

/** A slow webhook may cost a task at most this much of its latency without webhooks. */
export const WEBHOOK_LATENCY_RATIO = 1.2;

export type WebhookLatency = { none: number[]; slow: number[] };

/** One no-op task, from its POST to `succeeded` (read every 10 ms). */
async function timedTask(mesh: Mesh, agent: string, i: number): Promise<number> {
  const startedAt = performance.now();
  const created = await mesh.api<{ task_id: string }>("/api/tasks", {
    method: "POST",
    body: { instruction: `noop ${i}`, executor: "deepseek", agent, notify: true },
  });
  if (created.status !== 201) throw new Error(`POST /api/tasks → ${created.status}`);
  for (;;) {
    const task = await mesh.api<{ status: string }>(`/api/tasks/${created.body.task_id}`);
    if (task.body.status === "succeeded") return performance.now() - startedAt;
    if (task.body.status === "failed" || task.body.status === "cancelled")
      throw new Error(`task ${created.body.task_id} ${task.body.status}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

export async function webhookLatency(tasks: number): Promise<WebhookLatency> {
  const settings = { MESH_DAILY_HALT_USD: "1000000" };
  const slowTarget = await startReceiver({ secret: "bench", answer: () => ({ status: 200, delayMs: 10_000 }) });
  return stoppedAfter({ stop: () => slowTarget.close() }, async () =>
    stoppedAfter(await startMesh(settings), async (plain) =>
      stoppedAfter(
        await startMesh({ ...settings, MESH_WEBHOOK_URLS: slowTarget.url, MESH_WEBHOOK_SECRET: "bench" }),
        async (hooked) =>
          stoppedAfter(await startAgent(plain, "bench-hooks-none", NOOP_EXECUTORS), async (a) =>
            stoppedAfter(await startAgent(hooked, "bench-hooks-slow", NOOP_EXECUTORS), async (b) => {
              // Untimed: each mesh's first task wakes its rooms.
              await timedTask(plain, a.name, -1);
              await timedTask(hooked, b.name, -1);
              const result: WebhookLatency = { none: [], slow: [] };
              for (let i = 0; i < tasks; i++) {
                result.none.push(await timedTask(plain, a.name, i));
                result.slow.push(await timedTask(hooked, b.name, i));
              }
              if (slowTarget.arrivals.length === 0) throw new Error("the slow webhook target never got an event");
              return result;
            }),
          ),
      ),
    ),
  );
}

export function webhookRow(result: WebhookLatency): Row {
  const none = percentile(result.none, 50);
  const slow = percentile(result.slow, 50);
  return {
    name: `task latency (POST → succeeded, no-op CLI) with a 10 s webhook target vs none (${result.slow.length} tasks each)`,
    figure: `p50 ${fmt(slow, 0)} ms vs ${fmt(none, 0)} ms (${fmt(slow / none, 2)}×; p99 ${fmt(percentile(result.slow, 99), 0)} vs ${fmt(percentile(result.none, 99), 0)} ms)`,
    goal: `≤ ${WEBHOOK_LATENCY_RATIO}× without`,
    checks: [{ value: slow / none, goal: WEBHOOK_LATENCY_RATIO, direction: "at-most" }],
  };
}
