// MCP `execute` of a no-op task through the SDK's own client: create, dispatch, run, end, answer.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { TaskView } from "../protocol/index.ts";
import { type Mesh, startAgent } from "../test/integration/mesh-harness.ts";
import { stoppedAfter } from "./stopped-after.ts";

/** The one field of `execute`'s task the bench reads. */
const TaskStatusOnly = TaskView.pick({ status: true });

/** The no-op executor: a process that exits 0 at once. */
export const NOOP_EXECUTORS = {
  executors: { deepseek: { command: ["/bin/true"], format: "text" as const, timeout_s: 60 } },
};

/** Milliseconds per `execute` call, one call at a time, each naming the bench's agent. */
export async function executeRoundTrip(mesh: Mesh, calls: number): Promise<number[]> {
  return stoppedAfter(await startAgent(mesh, "bench-execute", NOOP_EXECUTORS), async (agent) => {
    const client = new Client({ name: "agent-mesh-bench", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${mesh.orchestratorToken}` } },
      }),
    );
    const samples: number[] = [];
    try {
      for (let i = 0; i < calls; i++) {
        const startedAt = performance.now();
        const result = (await client.callTool({
          name: "execute",
          arguments: { instruction: `noop ${i}`, executor: "deepseek", agent: agent.name, wait_s: 30 },
        })) as CallToolResult;
        samples.push(performance.now() - startedAt);
        const status = TaskStatusOnly.safeParse(result.structuredContent).data?.status;
        if (status !== "succeeded")
          throw new Error(`execute ended ${String(status)}: ${JSON.stringify(result.content)}`);
      }
    } finally {
      await client.close();
    }
    return samples;
  });
}
