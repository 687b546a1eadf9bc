// The agent's preflight on the real server (docs/real-clis.md): a tier whose CLI is missing is not
// registered; GET /api/agents lists it as unavailable with the reason; fixing the executors file
// while the agent runs offers the tier at once; an agent none of whose tiers can run refuses to start.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentRecord, ExecutorSpec, TaskView } from "../../protocol/index.ts";
import {
  FIXTURES,
  type Mesh,
  startAgent,
  startMesh,
  startRefusedAgent,
  type TestAgent,
  waitFor,
} from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;
const good: ExecutorSpec = {
  command: [process.execPath, join(FIXTURES, "exit-with.mjs"), "0", "ok"],
  format: "text",
  timeout_s: 60,
};
const missing: ExecutorSpec = { command: ["mesh-no-such-cli", "{prompt}"], format: "text", timeout_s: 60 };

beforeAll(async () => {
  mesh = await startMesh();
  agent = await startAgent(mesh, "vm-preflight", { executors: { deepseek: good, codex: missing } });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

const listed = async (): Promise<AgentRecord | undefined> =>
  (await mesh.api<{ agents: AgentRecord[] }>("/api/agents")).body.agents.find((a) => a.name === "vm-preflight");

describe("preflight", () => {
  it("registers only the tiers whose CLI runs, and lists the others as unavailable with the reason", async () => {
    const record = await listed();
    expect(record?.tiers).toEqual(["deepseek"]);
    expect(record?.unavailable?.codex).toMatch(/^'mesh-no-such-cli' is not installed/);
    expect(agent.output.join("\n")).toContain("tier codex is not offered: 'mesh-no-such-cli' is not installed");
    // A codex task is not dispatched to it (it would have failed at dispatch before): it waits, and times out as
    // no_agent.
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "x", executor: "codex", agent: "vm-preflight", queue_timeout_s: 1 },
    });
    expect((await mesh.finished(created.body.task_id, 20_000)).error?.code).toBe("no_agent");
  });

  it("offers a tier as soon as the executors file is fixed, without a restart", async () => {
    writeFileSync(agent.executorsFile, JSON.stringify({ executors: { deepseek: good, codex: good } }));
    const record = await waitFor(
      "codex offered",
      async () => {
        const now = await listed();
        return now?.state === "online" && now.tiers.includes("codex") ? now : null;
      },
      20_000,
    );
    expect(record.unavailable).toBeUndefined();
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "x", executor: "codex", agent: "vm-preflight" },
    });
    expect((await mesh.finished(created.body.task_id)).status).toBe("succeeded");
  });

  it("refuses to start when no tier can run, saying why (exit 2)", async () => {
    const refused = await startRefusedAgent(
      mesh,
      "vm-nothing",
      { executors: { codex: missing } },
      join(`${mesh.persistDir}-agents`, "vm-nothing"),
    );
    expect(refused.code).toBe(2);
    expect(refused.output).toContain("no tier of");
    expect(refused.output).toContain("'mesh-no-such-cli' is not installed");
  });
});
