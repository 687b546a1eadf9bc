// Lost agents are noticed by the registry's alarm, and their work goes on elsewhere.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { AgentRecord, TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startFleet, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const HEARTBEAT_S = 1;
let mesh: Mesh;
const agents: TestAgent[] = [];

// ~6 s of output: the attempt is surely running when its agent dies.
const slow = {
  command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "60", "0", "1", "100"],
  format: "text" as const,
  timeout_s: 60,
};

beforeAll(async () => {
  mesh = await startMesh({ MESH_HEARTBEAT_S: String(HEARTBEAT_S) });
  agents.push(await startAgent(mesh, "vm-watch-a", { executors: { sonnet: slow } }));
  agents.push(await startAgent(mesh, "vm-watch-b", { executors: { sonnet: slow } }));
});

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
});

describe("the watchdog", () => {
  it("gives up an agent killed with SIGKILL within three heartbeats and a second, and the task goes on at the same tier on another agent", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "slow", executor: "sonnet" },
    });
    const taskId = created.body.task_id;
    const running = await waitFor("the attempt to run", async () => {
      const task = await mesh.task(taskId);
      return task.attempts[0]?.status === "running" ? task : null;
    });
    const victim = agents.find((a) => a.name === running.attempts[0]?.agent);
    if (victim === undefined) throw new Error("no agent runs the attempt");
    // Heartbeats say what the agent is doing: the attempt, its child alive, and its last output.
    const report = await waitFor("a heartbeat about the attempt", async () => {
      const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
      const ref = body.agents.find((a) => a.name === victim.name)?.running.find((r) => r.task_id === taskId);
      return ref?.child_alive === true && ref.last_output_at !== undefined ? ref : null;
    });
    expect(Date.now() - (report.last_output_at ?? 0)).toBeLessThan(10_000);
    const killedAt = Date.now();
    victim.process.kill("SIGKILL");
    const lost = await waitFor(
      "agent_lost",
      async () => {
        const task = await mesh.task(taskId);
        return task.attempts[0]?.failure_class === "agent_lost" ? task : null;
      },
      20_000,
      50,
    );
    const detectedIn = Date.now() - killedAt;
    expect(detectedIn).toBeLessThanOrEqual(3 * HEARTBEAT_S * 1000 + 1000 + 500);
    expect(lost.attempts[0]).toMatchObject({ status: "failed", failure_class: "agent_lost", agent: victim.name });
    const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
    expect(body.agents.find((a) => a.name === victim.name)).toMatchObject({ state: "lost", running: [] });

    const done = await waitFor(
      "the retry to succeed",
      async () => {
        const task = await mesh.task(taskId);
        return task.status === "succeeded" || task.status === "failed" ? task : null;
      },
      30_000,
    );
    expect(done.status).toBe("succeeded");
    expect(done.attempts).toHaveLength(2);
    expect(done.attempts[1]).toMatchObject({ n: 2, tier: "sonnet", status: "succeeded" });
    expect(done.attempts[1]?.agent).not.toBe(victim.name);
  });

  it("dispatches a task pinned to a lost agent to it again when it comes back", async () => {
    const pinned = await startAgent(mesh, "vm-pinned", { executors: { sonnet: slow } });
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "slow, pinned", executor: "sonnet", agent: "vm-pinned" },
    });
    const taskId = created.body.task_id;
    await waitFor(
      "the pinned attempt to run",
      async () => (await mesh.task(taskId)).attempts[0]?.status === "running" || null,
    );
    pinned.process.kill("SIGKILL");
    await waitFor(
      "agent_lost",
      async () => (await mesh.task(taskId)).attempts[0]?.failure_class === "agent_lost" || null,
      20_000,
      50,
    );
    await pinned.stop();
    // Another agent of the tier is online (vm-watch-*), but the task may only run on vm-pinned: it waits for it.
    await new Promise((resolve) => setTimeout(resolve, 2 * HEARTBEAT_S * 1000));
    expect((await mesh.task(taskId)).attempts.map((a) => [a.agent, a.status])).toEqual([
      ["vm-pinned", "failed"],
      [null, "dispatched"],
    ]);
    const back = await startAgent(mesh, "vm-pinned", { executors: { sonnet: slow } });
    agents.push(back);
    const done = await mesh.finished(taskId, 60_000);
    expect(done.status).toBe("succeeded");
    expect(done.attempts.map((a) => [a.n, a.agent, a.status, a.failure_class ?? null])).toEqual([
      [1, "vm-pinned", "failed", "agent_lost"],
      [2, "vm-pinned", "succeeded", null],
    ]);
  });

  it("does not give up healthy agents that only heartbeat", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5 * HEARTBEAT_S * 1000));
    const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
    const survivor = agents.find((a) => a.process.exitCode === null && a.process.signalCode === null);
    expect(body.agents.find((a) => a.name === survivor?.name)?.state).toBe("online");
  });

  it("lists 200 connected, heartbeating agents and gives none of them up", async () => {
    const fleet = await startFleet(mesh, 200, "fleet", {
      executors: { opus: { command: ["/bin/true"], format: "text", timeout_s: 10 } },
    });
    try {
      const listed = async (): Promise<AgentRecord[]> =>
        (await mesh.api<{ agents: AgentRecord[] }>("/api/agents")).body.agents.filter((a) =>
          a.name.startsWith("fleet-"),
        );
      await waitFor(
        "all 200 online",
        async () => (await listed()).filter((a) => a.state === "online").length === 200,
        60_000,
      );
      // Five heartbeat periods later, still every one online and none lost.
      await new Promise((resolve) => setTimeout(resolve, 5 * HEARTBEAT_S * 1000));
      const after = await listed();
      expect(after).toHaveLength(200);
      expect(after.filter((a) => a.state !== "online").map((a) => `${a.name}:${a.state}`)).toEqual([]);
    } finally {
      await fleet.stop();
    }
  });

  it("hands an assignment out again when its agent comes back without it, and runs it once", async () => {
    // A scripted peer stands in for an agent whose socket died with the assignment in flight: it
    // takes the assignment, drops the connection, and says hello again holding nothing.
    const url = `ws://127.0.0.1:${mesh.port}/parties/registry/main?token=${encodeURIComponent(mesh.agentToken)}`;
    const hello = {
      type: "agent.hello",
      protocol_version: 1,
      name: "vm-forgetful",
      kind: "vm",
      tiers: ["opus"],
      capacity: 1,
      version: "test",
      running: [],
    };
    const first = new WebSocket(url);
    let credential = "";
    const assigned = new Promise<{ task_id: string }>((resolve) =>
      first.on("message", (raw) => {
        const message = JSON.parse(raw.toString()) as { type: string; task_id: string; credential?: string };
        if (message.type === "agent.enrolled") credential = message.credential ?? "";
        if (message.type === "task.assign") resolve(message);
      }),
    );
    await new Promise((resolve) => first.once("open", resolve));
    first.send(JSON.stringify(hello));
    await waitFor("vm-forgetful online", async () =>
      (await mesh.api<{ agents: AgentRecord[] }>("/api/agents")).body.agents.some(
        (a) => a.name === "vm-forgetful" && a.state === "online",
      ),
    );
    // A real agent that serves opus is there to take it once it is free again (equally loaded, the
    // registry picks by name, so the assignment goes to vm-forgetful first).
    const helper = await startAgent(mesh, "vm-opus", {
      executors: {
        opus: { command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "5"], format: "text", timeout_s: 30 },
      },
    });
    agents.push(helper);
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "quick", executor: "opus" },
    });
    expect((await assigned).task_id).toBe(created.body.task_id);
    first.terminate();
    // Back within a heartbeat, before the watchdog could give it up, now serving another tier only
    // (so the request it lost goes to vm-opus, not back to it).
    // It comes back with its own credential (the enrollment token would be refused: the name is taken).
    const second = new WebSocket(url.replace(/token=.*$/, `token=${encodeURIComponent(credential)}`));
    await new Promise((resolve) => second.once("open", resolve));
    second.send(JSON.stringify({ ...hello, tiers: ["deepseek"] }));
    const done = await waitFor(
      "the task to succeed",
      async () => {
        const task = await mesh.task(created.body.task_id);
        return task.status === "succeeded" ? task : null;
      },
      30_000,
    );
    expect(done.attempts.map((a) => [a.agent, a.status, a.failure_class ?? null])).toEqual([
      ["vm-opus", "succeeded", null],
    ]);
    second.close();
  });
});
