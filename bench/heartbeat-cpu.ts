// The dev server's CPU (share of one core) and memory while a fleet of real agents (the real
// runtime, in one process) heartbeats at the default rate, on a mesh of its own.
import { startFleet, startMesh, waitFor } from "../test/integration/mesh-harness.ts";
import { groupCpuSeconds, groupRssMiB } from "./bench-stats.ts";
import { NOOP_EXECUTORS } from "./execute-round-trip.ts";
import { stoppedAfter } from "./stopped-after.ts";

export type HeartbeatLoad = { cpuShare: number; rss: number; online: number };

export async function heartbeatCpu(agents: number, windowS: number): Promise<HeartbeatLoad> {
  return stoppedAfter(await startMesh(), async (mesh) =>
    stoppedAfter(await startFleet(mesh, agents, "bench-fleet", NOOP_EXECUTORS), async () => {
      const online = async (): Promise<number> =>
        (await mesh.api<{ agents: Array<{ state: string }> }>("/api/agents")).body.agents.filter(
          (a) => a.state === "online",
        ).length;
      await waitFor(`${agents} agents online`, async () => (await online()) === agents, 180_000, 500);
      const before = await groupCpuSeconds(mesh.serverPid());
      const startedAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, windowS * 1000));
      const cpu = (await groupCpuSeconds(mesh.serverPid())) - before;
      return {
        cpuShare: cpu / ((performance.now() - startedAt) / 1000),
        rss: await groupRssMiB(mesh.serverPid()),
        online: await online(),
      };
    }),
  );
}
