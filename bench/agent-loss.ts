// Agent loss at the mesh's heartbeat: SIGKILL an agent while its attempt runs, and time until the
// mesh has given the attempt up as `agent_lost` (bound: three missed beats + one watchdog tick).
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES, type Mesh, startAgent, waitFor } from "../test/integration/mesh-harness.ts";
import { stoppedAfter } from "./stopped-after.ts";
import { createTargetedTask } from "./targeted-task.ts";

/** Stops the executor the dead agent left behind (its own process group, with a `sleep` grandchild). */
function stopOrphan(pidFile: string): void {
  const pid = Number(readFileSync(pidFile, "utf8").split(" ")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Milliseconds from each SIGKILL to the attempt reading `agent_lost`, one agent at a time. */
export async function agentLoss(mesh: Mesh, deaths: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < deaths; i++) {
    const pidFile = join(tmpdir(), `mesh-bench-sleeper-${process.pid}-${i}`);
    const executors = {
      executors: {
        codex: {
          command: [process.execPath, join(FIXTURES, "sleeper.mjs"), pidFile],
          format: "text" as const,
          timeout_s: 120,
        },
      },
    };
    await stoppedAfter(await startAgent(mesh, `bench-doomed-${i}`, executors), async (agent) => {
      const taskId = await createTargetedTask(mesh, agent.name, "run until killed", "codex");
      try {
        await waitFor(
          "the attempt to run",
          async () => (await mesh.task(taskId)).attempts[0]?.status === "running",
          30_000,
          25,
        );
        // Wait for the child to start (it writes its pid file), so the orphan can be stopped after.
        await waitFor("the executor to start", () => readFileSync(pidFile, "utf8").length > 0, 10_000, 25);
        const killedAt = performance.now();
        agent.process.kill("SIGKILL");
        await waitFor(
          "agent_lost",
          async () => (await mesh.task(taskId)).attempts[0]?.failure_class === "agent_lost",
          60_000,
          25,
        );
        samples.push(performance.now() - killedAt);
      } finally {
        stopOrphan(pidFile);
        // Its one retry waits for the dead agent by name: withdraw it.
        await mesh.api(`/api/tasks/${taskId}/cancel`, { method: "POST" });
      }
    });
  }
  return samples;
}
