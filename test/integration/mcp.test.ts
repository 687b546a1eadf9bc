// The SDK's own Client drives the mesh's MCP tools over Streamable HTTP: what each tool does, its
// schemas and hints (the endpoint's refusals, a restart and the stdio bridge: mcp-transport.test.ts).
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLine, TaskView } from "../../protocol/index.ts";
import { callTool, mcpHttpClient, taskOf, textOf } from "./mcp-test-client.ts";
import { FIXTURES, type Mesh, processAlive, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;
let client: Client;

const httpClient = (token = mesh.orchestratorToken) => mcpHttpClient(mesh, token);
const call = (name: string, args: Record<string, unknown>, onProgress?: (message: string) => void) =>
  callTool(client, name, args, onProgress);

beforeAll(async () => {
  mesh = await startMesh();
  agent = await startAgent(
    mesh,
    "vm-mcp",
    {
      executors: {
        // execute starts at the bottom of the ladder: 60 lines over ~1.2 s, so progress has lines to carry.
        deepseek: {
          command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "60", "0", "5", "100"],
          format: "text",
          timeout_s: 60,
        },
        sonnet: {
          command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "30", "0", "10", "300"],
          format: "text",
          timeout_s: 60,
        },
        codex: {
          command: [process.execPath, join(FIXTURES, "sleeper.mjs"), "{prompt}"],
          format: "text",
          timeout_s: 60,
        },
      },
    },
    { capacity: 4 },
  );
  const http = httpClient();
  client = http.client;
  await client.connect(http.transport);
});

afterAll(async () => {
  await client?.close();
  await agent?.stop();
  await mesh?.stop();
});

describe("MCP over Streamable HTTP", () => {
  it("revokes an agent with revoke_agent, and says so for an unknown name", async () => {
    const unknown = await call("revoke_agent", { name: "nobody" });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/not_found: no agent named nobody/);
    const spare = await startAgent(mesh, "vm-mcp-spare", {
      executors: { opus: { command: ["/bin/true"], format: "text", timeout_s: 10 } },
    });
    try {
      const revoked = await call("revoke_agent", { name: "vm-mcp-spare" });
      expect(revoked.structuredContent).toEqual({ name: "vm-mcp-spare", state: "revoked", requeued: 0 });
      await waitFor("the revoked agent to exit", () => spare.process.exitCode !== null || null, 10_000);
      const agents = (await call("list_agents", {})).structuredContent as {
        agents: Array<{ name: string; state: string }>;
      };
      expect(agents.agents.find((a) => a.name === "vm-mcp-spare")?.state).toBe("revoked");
    } finally {
      await spare.stop();
    }
  });

  it("lists every tool with its input schema", async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const name of [
      "execute",
      "dispatch",
      "result",
      "list_tasks",
      "logs",
      "cancel",
      "resolve",
      "list_agents",
      "budget_status",
      "revoke_agent",
      "plan",
    ])
      expect(byName.has(name), name).toBe(true);
    expect(Object.keys(byName.get("execute")?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["priority", "after", "queue_timeout_s", "kind"]),
    );
    expect(byName.get("execute")?.inputSchema.required).toEqual(["instruction"]);
    expect(Object.keys(byName.get("execute")?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["instruction", "executor", "cwd", "agent", "acceptance", "wait_s"]),
    );
    // cwd is optional since a task may name its repository by URL instead (docs/repositories.md).
    expect(byName.get("dispatch")?.inputSchema.required).toEqual(["name", "prompt"]);
    for (const name of ["execute", "dispatch"])
      expect(Object.keys(byName.get(name)?.inputSchema.properties ?? {}), name).toEqual(
        expect.arrayContaining(["repo", "base_ref", "deliver"]),
      );
    const planTask =
      (
        byName.get("plan")?.inputSchema.properties?.tasks as
          | { items?: { properties?: Record<string, unknown> } }
          | undefined
      )?.items?.properties ?? {};
    expect(Object.keys(planTask)).toEqual(expect.arrayContaining(["repo", "base_ref", "deliver"]));
    expect(Object.keys(byName.get("logs")?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["name", "task_id", "since_seq", "limit"]),
    );
  });

  it("executes a task to the end, sending progress notifications that carry output lines", async () => {
    const progress: string[] = [];
    const result = await call("execute", { instruction: "print", wait_s: 60 }, (message) => progress.push(message));
    expect(result.isError).toBeFalsy();
    const task = taskOf(result);
    expect(task.status).toBe("succeeded");
    expect(task.tier).toBe("deepseek");
    expect(task.mermaid).toContain("flowchart");
    expect(task.watch_url).toContain(`#task=${task.task_id}`);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.some((message) => /line \d+/.test(message))).toBe(true);
    expect(textOf(result)).toContain("succeeded");
  });

  it("returns a running task after wait_s, and result picks it up later", async () => {
    const started = await call("execute", { instruction: "slow", executor: "sonnet", wait_s: 0.2 });
    const task = taskOf(started);
    expect(["queued", "running"]).toContain(task.status);
    expect(textOf(started)).toContain("call result");
    const done = await call("result", { task_id: task.task_id, wait_s: 30 });
    expect(taskOf(done).status).toBe("succeeded");
  });

  it("dispatches a named task, refuses its name while it runs, and gives its result by name", async () => {
    const dispatched = await call("dispatch", { name: "mcp-named", prompt: "work", cwd: tmpdir() });
    expect(dispatched.isError).toBeFalsy();
    expect(taskOf(dispatched)).toMatchObject({ name: "mcp-named", tier: "sonnet" });
    const again = await call("dispatch", { name: "mcp-named", prompt: "work", cwd: tmpdir() });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/^name_in_use: /);
    const result = await call("result", { name: "mcp-named", wait_s: 30 });
    expect(taskOf(result)).toMatchObject({ name: "mcp-named", status: "succeeded" });
  });

  it("reads logs from since_seq, in order", async () => {
    const result = await call("execute", { instruction: "print", wait_s: 60 });
    const taskId = taskOf(result).task_id;
    const logs = await call("logs", { task_id: taskId, since_seq: 5, limit: 10 });
    const lines = (logs.structuredContent as { lines: LogLine[] }).lines;
    expect(lines.map((line) => line.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it("cancels a task and stops its process tree", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "mesh-mcp-cancel-")), "pids");
    const started = await call("execute", { instruction: pidFile, executor: "codex", wait_s: 0 });
    const taskId = taskOf(started).task_id;
    await waitFor("the child to run", () => existsSync(pidFile) && readFileSync(pidFile, "utf8").includes(" "));
    const [child, grandchild] = readFileSync(pidFile, "utf8").split(" ").map(Number);
    const cancelled = await call("cancel", { task_id: taskId });
    expect(taskOf(cancelled).status).toBe("cancelled");
    await waitFor(
      "the process tree to be gone",
      () => !processAlive(child ?? 0) && !processAlive(grandchild ?? 0),
      15_000,
    );
    const again = await call("cancel", { task_id: taskId });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/^conflict: /);
  });

  it("reports the budget: spend, limits and the breaker", async () => {
    const result = await call("budget_status", {});
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      day: { halt_usd: 20 },
      month: { alert_usd: 80 },
      breaker: { state: "closed" },
    });
    expect(textOf(result)).toMatch(/breaker closed/);
  });

  it("lists agents and tasks", async () => {
    const agents = await call("list_agents", {});
    expect((agents.structuredContent as { agents: Array<{ name: string }> }).agents.map((a) => a.name)).toContain(
      "vm-mcp",
    );
    const tasks = await call("list_tasks", { status: "succeeded", limit: 2 });
    const listed = (tasks.structuredContent as { tasks: Array<{ status: string }> }).tasks;
    expect(listed).toHaveLength(2);
    expect(listed.every((t) => t.status === "succeeded")).toBe(true);
  });

  it("creates a plan (B after A) with plan, with its Mermaid graph; refuses a cyclic one with isError and creates nothing", async () => {
    const planned = await call("plan", {
      tasks: [
        { key: "A", instruction: "print" },
        { key: "B", instruction: "print", after: ["A"] },
      ],
    });
    expect(planned.isError).toBeFalsy();
    const { tasks, mermaid } = planned.structuredContent as { tasks: TaskView[]; mermaid: string };
    expect(tasks.map((t) => t.status)).toEqual(["queued", "queued"]);
    expect(tasks[1]?.waiting).toMatchObject({ for: "tasks", ids: [tasks[0]?.task_id] });
    expect(mermaid).toContain("t1 --> t2");
    expect(textOf(planned)).toContain("```mermaid");
    const b = await call("result", { task_id: tasks[1]?.task_id, wait_s: 60 });
    expect(taskOf(b).status).toBe("succeeded");
    const cyclic = await call("plan", {
      tasks: [
        { key: "A", instruction: "print", after: ["B"] },
        { key: "B", instruction: "print", after: ["A"] },
      ],
    });
    expect(cyclic.isError).toBe(true);
    expect(textOf(cyclic)).toContain("bad_request: the plan has a cycle");
  });

  it("lists queued tasks in serving order with their positions (list_tasks with status queued)", async () => {
    // opus is served by no agent here: both wait in the registry's queue until cancelled.
    const low = taskOf(await call("execute", { instruction: "print", executor: "opus", priority: 2, wait_s: 0 }));
    const high = taskOf(await call("execute", { instruction: "print", executor: "opus", priority: 8, wait_s: 0 }));
    const queued = await waitFor("both queued", async () => {
      const listed = (await call("list_tasks", { status: "queued" })).structuredContent as {
        tasks: Array<{ task_id: string; position?: number }>;
      };
      return listed.tasks.filter((t) => t.position !== undefined).length >= 2 ? listed.tasks : null;
    });
    expect(queued.slice(0, 2).map((t) => [t.task_id, t.position])).toEqual([
      [high.task_id, 1],
      [low.task_id, 2],
    ]);
    for (const task of [low, high])
      expect(taskOf(await call("cancel", { task_id: task.task_id })).status).toBe("cancelled");
  });

  it("answers bad arguments and unknown tasks with isError, a code, and the argument's name", async () => {
    const wrongType = await call("execute", { instruction: 42 });
    expect(wrongType.isError).toBe(true);
    expect(textOf(wrongType)).toMatch(/^bad_request: .*instruction/);
    const badWait = await call("execute", { instruction: "x", wait_s: -1 });
    expect(textOf(badWait)).toMatch(/^bad_request: .*wait_s/);
    const noRef = await call("result", {});
    expect(textOf(noRef)).toMatch(/^bad_request: name or task_id/);
    const unknown = await call("result", { task_id: "01J0000000000000000000NONE" });
    expect(textOf(unknown)).toMatch(/^not_found: /);
    const badExecutor = await call("execute", { instruction: "x", executor: "gpt-9" });
    expect(textOf(badExecutor)).toMatch(/^bad_request: executor/);
    // The code is machine-readable too, outside structuredContent (which the output schema describes).
    expect(badExecutor._meta?.["agent-mesh/error"]).toMatchObject({ code: "bad_request" });
    expect(badExecutor.structuredContent).toBeUndefined();
    const someTask = taskOf(await call("execute", { instruction: "print", wait_s: 0 })).task_id;
    const notWaiting = await call("resolve", { task_id: someTask, decision: "approve" });
    expect(textOf(notWaiting)).toMatch(/^conflict: .*awaiting_human/);
    const badDecision = await call("resolve", { task_id: someTask, decision: "maybe" });
    expect(textOf(badDecision)).toMatch(/^bad_request: .*decision/);
  });

  it("declares every tool's output schema and the spec's hints, and results match their schema", async () => {
    const { tools } = await client.listTools();
    for (const tool of tools) expect(tool.outputSchema?.type, tool.name).toBe("object");
    const hints = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations ?? {}]));
    for (const name of ["result", "logs", "list_tasks", "list_agents", "budget_status", "diff"])
      expect(hints[name], name).toMatchObject({ readOnlyHint: true });
    for (const name of ["cancel", "revoke_agent"]) expect(hints[name], name).toMatchObject({ destructiveHint: true });
    expect(hints.execute).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    // The SDK client validates structuredContent against the declared schema: these calls would throw on a mismatch.
    for (const [name, args] of [
      ["list_tasks", {}],
      ["list_agents", {}],
      ["budget_status", {}],
    ] as const)
      expect((await call(name, args)).isError, name).toBeFalsy();
    const done = await call("execute", { instruction: "print", wait_s: 60 });
    expect(taskOf(done).status).toBe("succeeded");
    expect((await call("result", { task_id: taskOf(done).task_id })).isError).toBeFalsy();
    expect((await call("logs", { task_id: taskOf(done).task_id, limit: 5 })).isError).toBeFalsy();
  });
});
