// CLI line → viewer latency at a steady rate: a child stamps each line with the instant it wrote
// it; the viewer, on the same machine, subtracts that from the instant the line's frame arrived.
import { join } from "node:path";
import { type Mesh, startAgent } from "../test/integration/mesh-harness.ts";
import { LATENCY_RATE } from "./bench-plan.ts";
import type { StartGate } from "./start-gate.ts";
import { stoppedAfter } from "./stopped-after.ts";
import { MeshStreamViewer } from "./stream-viewers.ts";
import { createTargetedTask } from "./targeted-task.ts";

export type LatencyResult = { samples: number[]; expected: number };

const STALL_MS = 10_000;

/** Milliseconds from each line's write to its arrival at a viewer, for `seconds` of LATENCY_RATE lines/s. */
export async function lineLatency(mesh: Mesh, gate: StartGate, seconds: number): Promise<LatencyResult> {
  const paced = [process.execPath, join(import.meta.dirname, "paced-lines.mjs"), String(LATENCY_RATE), String(seconds)];
  const executors = {
    executors: { deepseek: { command: gate.command(paced), format: "text" as const, timeout_s: 600 } },
  };
  const expected = Math.round(LATENCY_RATE * seconds);
  return stoppedAfter(await startAgent(mesh, "bench-paced", executors), async (agent) => {
    const samples: number[] = [];
    let lastAt = performance.now();
    const taskId = await createTargetedTask(mesh, agent.name, "paced lines");
    const viewer = await MeshStreamViewer.open(mesh.port, mesh.orchestratorToken, taskId, (text, at) => {
      samples.push(performance.timeOrigin + at - Number(text.slice(0, text.indexOf(" "))));
      lastAt = at;
    });
    try {
      await viewer.running;
      await gate.childrenWaiting(1);
      gate.open(1);
      lastAt = performance.now();
      while (samples.length < expected && performance.now() - lastAt < STALL_MS)
        await new Promise((resolve) => setTimeout(resolve, 100));
      return { samples, expected };
    } finally {
      viewer.close();
    }
  });
}
