// Idle agent memory: whatever the harness's startAgent starts, connected and idle for a few seconds,
// measured over its whole process group. That is `node dist/mesh-agent.js` with no node flags, the
// command `npm run agent`, the bin and the service files run: the heap policy is in the bundle.
import { type Mesh, startAgent } from "../test/integration/mesh-harness.ts";
import { groupRssMiB } from "./bench-stats.ts";
import { NOOP_EXECUTORS } from "./execute-round-trip.ts";
import { stoppedAfter } from "./stopped-after.ts";

export async function idleAgentRss(mesh: Mesh, idleSeconds: number): Promise<number> {
  return stoppedAfter(await startAgent(mesh, "bench-idle", NOOP_EXECUTORS), async (agent) => {
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    return groupRssMiB(agent.process.pid ?? 0);
  });
}
