// The mesh server's memory rows (docs/memory.md): workerd's RSS idle, after the one-stream row, and
// after many viewers opened a task's watch link, subscribed and closed cleanly; and the agent's RSS
// fresh and after a run of no-op tasks.
import WebSocket from "ws";
import type { TaskView } from "../protocol/index.ts";
import { type Mesh, startAgent } from "../test/integration/mesh-harness.ts";
import { groupRssMiB } from "./bench-stats.ts";
import { NOOP_EXECUTORS } from "./execute-round-trip.ts";
import { type ServerRss, serverRss } from "./server-rss.ts";
import { stoppedAfter } from "./stopped-after.ts";
import { createTargetedTask } from "./targeted-task.ts";

/** Viewers open at once during the churn (a browser tab each, as many as a busy dashboard sees). */
const CHURN_CONCURRENCY = 50;
/** A viewer that does not finish its open → subscribe → first frame → clean close in this time counts as stuck. */
const VIEWER_TIMEOUT_MS = 10_000;

/** The server's RSS once it has settled for `settleMs`. */
export async function settledServerRss(mesh: Mesh, settleMs = 3_000): Promise<ServerRss> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return serverRss(mesh.serverPid());
}

export type ChurnResult = {
  viewers: number;
  stuck: number;
  rss: ServerRss /** Close codes other than a clean one, with their counts. */;
  otherCloses: Record<string, number>;
};

/**
 * `count` viewers, `CHURN_CONCURRENCY` at a time, each as the page does: the task's watch link (its
 * signed token), `logs.subscribe`, the first frame, then a clean close that waits for the server's
 * close frame. A viewer whose close is never answered counts as stuck (the leak this row guards).
 */
export async function viewerChurn(mesh: Mesh, count: number): Promise<ChurnResult> {
  const created = await mesh.api<TaskView>("/api/tasks", {
    method: "POST",
    body: { instruction: "bench: viewer churn" },
  });
  if (created.status !== 201)
    throw new Error(`creating the churn task → ${created.status} ${JSON.stringify(created.body)}`);
  const link = new URLSearchParams(new URL(created.body.watch_url).hash.slice(1));
  const url = `ws://127.0.0.1:${mesh.port}/parties/task/${link.get("task") ?? ""}?token=${encodeURIComponent(link.get("token") ?? "")}`;
  let stuck = 0;
  const otherCloses: Record<string, number> = {};
  for (let opened = 0; opened < count; opened += CHURN_CONCURRENCY) {
    const batch = Math.min(CHURN_CONCURRENCY, count - opened);
    const outcomes = await Promise.all(Array.from({ length: batch }, () => oneViewer(url)));
    for (const outcome of outcomes) {
      if (outcome === "stuck") stuck += 1;
      else if (outcome !== "clean") otherCloses[outcome] = (otherCloses[outcome] ?? 0) + 1;
    }
  }
  // The task only carried the watch link: cancelled, so no agent of a later section takes it.
  await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
  return { viewers: count, stuck, otherCloses, rss: await settledServerRss(mesh) };
}

/**
 * "clean" when the viewer got a frame and its close was answered; "stuck" when it was not in time; else the close code
 * and reason.
 */
function oneViewer(url: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      resolve("stuck");
    }, VIEWER_TIMEOUT_MS);
    socket.on("open", () => socket.send(JSON.stringify({ type: "logs.subscribe", since_seq: 0 })));
    socket.once("message", () => socket.close(1000));
    socket.on("error", () => undefined);
    socket.on("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(`upgrade refused ${response.statusCode ?? 0}`);
    });
    socket.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve(code === 1000 || code === 1005 ? "clean" : `${code} ${reason.toString()}`.trim());
    });
  });
}

export type AgentAfterWork = { tasks: number; mib: number; failed: number };

/** An agent's whole process group after `tasks` no-op tasks one after another, then `idleSeconds` idle. */
export async function agentRssAfterTasks(mesh: Mesh, tasks: number, idleSeconds: number): Promise<AgentAfterWork> {
  return stoppedAfter(await startAgent(mesh, "bench-worked", NOOP_EXECUTORS), async (agent) => {
    let failed = 0;
    for (let i = 0; i < tasks; i++) {
      const taskId = await createTargetedTask(mesh, agent.name, `bench: no-op ${i}`);
      if ((await mesh.finished(taskId)).status !== "succeeded") failed += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    return { tasks, mib: await groupRssMiB(agent.process.pid ?? 0), failed };
  });
}
