// The fleet rides out a server stall (docs/wire-protocol.md, heartbeats). workerd (with the dev server around it) is
// stopped with SIGSTOP for 5, 15 and 40 s and resumed: every agent is back online within two
// heartbeats of the resume and keeps beating, and a running attempt's lines arrive exactly once.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentRecord } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, TaskViewer, type TestAgent, waitFor } from "./mesh-harness.ts";

const HEARTBEAT_S = 1;
const AGENTS = 6;
let mesh: Mesh;
const agents: TestAgent[] = [];

// 400 lines, one every 100 ms (40 s): it runs through the stall.
const printer = {
  command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "400", "0", "1", "100"],
  format: "text" as const,
  timeout_s: 300,
};

beforeAll(async () => {
  mesh = await startMesh({ MESH_HEARTBEAT_S: String(HEARTBEAT_S) });
  for (let i = 0; i < AGENTS; i += 1)
    agents.push(await startAgent(mesh, `vm-stall-${i}`, { executors: { sonnet: printer } }));
}, 120_000);

afterAll(async () => {
  if (process.env.STALL_DEBUG) {
    console.log(JSON.stringify(await agentRecords(), null, 1));
    for (const agent of agents) console.log(agent.name, `\n${agent.output.slice(-25).join("\n")}`);
  }
  try {
    process.kill(-mesh.serverPid(), "SIGCONT");
  } catch {
    // not stopped, or already gone
  }
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
});

async function agentRecords(): Promise<AgentRecord[]> {
  const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
  return body.agents;
}

/** Stops the dev server's whole process group (workerd included) for `seconds`, then resumes it. */
async function stall(seconds: number): Promise<number> {
  process.kill(-mesh.serverPid(), "SIGSTOP");
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  process.kill(-mesh.serverPid(), "SIGCONT");
  return Date.now();
}

describe("a server stall", () => {
  for (const seconds of process.env.STALL_S ? [Number(process.env.STALL_S)] : [5, 15, 40]) {
    it(`of ${seconds} s: every agent is back online within two heartbeats of the resume and keeps beating`, async () => {
      const resumedAt = await stall(seconds);
      // Back: online, and beating after the resume (not a record left over from before it).
      const backIn = await waitFor(
        "every agent back online",
        async () => {
          const records = await agentRecords();
          const back = records.filter(
            (a) => a.name.startsWith("vm-stall-") && a.state === "online" && (a.last_heartbeat ?? 0) >= resumedAt,
          );
          return back.length === AGENTS ? Date.now() - resumedAt : null;
        },
        60_000,
        50,
      );
      console.log(`stall of ${seconds} s: all ${AGENTS} agents beating again ${backIn} ms after the resume`);
      // Slack for the first API answer of a server that has just resumed, and for the 1 s tick.
      expect(backIn).toBeLessThanOrEqual(2 * HEARTBEAT_S * 1000 + 3000);
      // And they stay: five beats later every one has beaten again.
      await new Promise((resolve) => setTimeout(resolve, 5 * HEARTBEAT_S * 1000));
      const later = Date.now() - 2 * HEARTBEAT_S * 1000 - 1000;
      const records = await agentRecords();
      expect(
        records
          .filter((a) => a.name.startsWith("vm-stall-"))
          .map((a) => [a.name, a.state, (a.last_heartbeat ?? 0) >= later]),
      ).toEqual(agents.map((a) => [a.name, "online", true]));
    }, 180_000);
  }

  it("of 15 s while an attempt runs: the attempt goes on (or is reassigned) and every line arrives exactly once", async () => {
    const created = await mesh.api<{ task_id: string }>("/api/tasks", {
      method: "POST",
      body: { instruction: "print through a stall", executor: "sonnet" },
    });
    const taskId = created.body.task_id;
    await waitFor(
      "the attempt to print",
      async () => {
        const { body } = await mesh.api<{ lines: unknown[] }>(`/api/tasks/${taskId}/logs`);
        return body.lines.length >= 20;
      },
      30_000,
    );
    await stall(15);
    const done = await mesh.finished(taskId, 150_000);
    console.log(
      `stall of 15 s mid-attempt: ${done.attempts.length} attempt(s): ${done.attempts.map((a) => `${a.agent} ${a.status}${a.failure_class === undefined ? "" : ` ${a.failure_class}`}`).join(", ")}`,
    );
    expect(done.status).toBe("succeeded");
    const viewer = await TaskViewer.open(mesh, taskId);
    await waitFor("the whole log", () => viewer.lines.length >= 400 || null, 20_000);
    const texts = viewer.lines.filter((line) => line.stream === "stdout").map((line) => line.text);
    viewer.close();
    // print-lines numbers its lines: each once, in order (a reassigned attempt prints them all again, as attempt 2).
    const last = done.attempts[done.attempts.length - 1];
    const ofLast = last === undefined ? texts : texts.slice(-400);
    expect(new Set(ofLast).size).toBe(400);
    expect(viewer.lines.map((line) => line.seq)).toEqual(viewer.lines.map((_, i) => i));
  }, 240_000);
});
