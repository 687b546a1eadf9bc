// The SDK's own Client drives the mesh's MCP tools over Streamable HTTP and over stdio through the bridge.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import type { LogLine, TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, processAlive, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;
let client: Client;

function httpClient(token = mesh.orchestratorToken): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  return { client: new Client({ name: "mesh-test", version: "1.0.0" }), transport };
}

async function call(
  name: string,
  args: Record<string, unknown>,
  onProgress?: (message: string) => void,
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 60_000,
    resetTimeoutOnProgress: true,
    ...(onProgress ? { onprogress: (progress: { message?: string }) => onProgress(progress.message ?? "") } : {}),
  })) as CallToolResult;
}

const taskOf = (result: CallToolResult): TaskView => result.structuredContent as TaskView;
const textOf = (result: CallToolResult): string =>
  result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");

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
  it("answers bad bodies as JSON-RPC says: -32700 for not JSON, -32600 for JSON that is no message, 413 past 256 KiB", async () => {
    const post = async (body: string) => {
      const response = await fetch(`${mesh.url}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${mesh.orchestratorToken}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body,
      });
      return {
        status: response.status,
        body: (await response.json()) as { error?: { code: number; message: string } },
      };
    };
    expect(await post("{not json")).toMatchObject({ status: 400, body: { error: { code: -32700 } } });
    expect(await post(JSON.stringify({ hello: 1 }))).toMatchObject({ status: 400, body: { error: { code: -32600 } } });
    expect(await post("[]")).toMatchObject({ status: 400, body: { error: { code: -32600 } } });
    const big = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/list",
      params: { pad: "x".repeat(300 * 1024) },
    });
    expect(await post(big)).toMatchObject({ status: 413, body: { error: { code: -32000 } } });
  });

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

  it("refuses a missing or wrong token with 401, a foreign Origin with 403, and GET with 405", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    expect((await fetch(`${mesh.url}/mcp`, { method: "POST", headers, body })).status).toBe(401);
    expect(
      (
        await fetch(`${mesh.url}/mcp`, {
          method: "POST",
          headers: { ...headers, authorization: "Bearer wrong-token-0000000000" },
          body,
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await fetch(`${mesh.url}/mcp`, {
          method: "POST",
          headers: { ...headers, authorization: `Bearer ${mesh.agentToken}` },
          body,
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await fetch(`${mesh.url}/mcp`, {
          method: "POST",
          headers: { ...headers, authorization: `Bearer ${mesh.orchestratorToken}`, origin: "http://evil.example" },
          body,
        })
      ).status,
    ).toBe(403);
    expect(
      (await fetch(`${mesh.url}/mcp`, { headers: { authorization: `Bearer ${mesh.orchestratorToken}` } })).status,
    ).toBe(405);
    const stranger = httpClient("wrong-token-0000000000");
    await expect(stranger.client.connect(stranger.transport)).rejects.toThrow(/401|nauthori/);
  });

  it("answers 401 and 403 with a Bearer challenge carrying the mesh's own message (RFC 6750), so clients show it", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const wrong = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: { ...headers, authorization: "Bearer wrong-token-0000000000" },
      body,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe(
      `Bearer realm="agent-mesh", resource_metadata="${mesh.url}/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="the bearer token sent is wrong; this MCP endpoint takes MESH_ORCHESTRATOR_TOKEN (npm start keeps it in .mesh/secrets.env) or an OAuth access token (docs/oauth.md) (claude mcp get <name> shows the header a client sends)"`,
    );
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const agent = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${mesh.agentToken}` },
      body,
    });
    expect(agent.status).toBe(403);
    expect(agent.headers.get("www-authenticate")).toMatch(
      /^Bearer realm="agent-mesh", resource_metadata="[^"]+", error="insufficient_scope", error_description="[^"]*orchestrator token[^"]*"$/,
    );
    const stranger = httpClient("wrong-token-0000000000");
    await expect(stranger.client.connect(stranger.transport)).rejects.toThrow(/the bearer token sent is wrong/);
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

  it("keeps a connected client working across a server restart", async () => {
    await mesh.stopServer();
    await mesh.startServer();
    const agents = await call("list_agents", {});
    expect(agents.isError).toBeFalsy();
  });
});

describe("MCP over stdio through the bridge", () => {
  it("lists the tools and executes a task", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(PROJECT_ROOT, "bin/mesh-mcp.mjs")],
      env: { PATH: process.env.PATH ?? "", MESH_URL: mesh.url, MESH_ORCHESTRATOR_TOKEN: mesh.orchestratorToken },
      stderr: "pipe",
    });
    const stdioClient = new Client({ name: "mesh-test-stdio", version: "1.0.0" });
    await stdioClient.connect(transport);
    try {
      const { tools } = await stdioClient.listTools();
      expect(tools.map((tool) => tool.name)).toContain("execute");
      await waitFor("the agent back after the restart", async () => {
        const listed = (await stdioClient.callTool({ name: "list_agents", arguments: {} })) as CallToolResult;
        return (listed.structuredContent as { agents: Array<{ name: string; state: string }> }).agents.some(
          (a) => a.name === "vm-mcp" && a.state === "online",
        );
      });
      const progress: string[] = [];
      const result = (await stdioClient.callTool(
        { name: "execute", arguments: { instruction: "print", wait_s: 60 } },
        undefined,
        {
          timeout: 60_000,
          resetTimeoutOnProgress: true,
          onprogress: (p) => progress.push(p.message ?? ""),
        },
      )) as CallToolResult;
      expect(taskOf(result).status).toBe("succeeded");
      expect(progress.length).toBeGreaterThan(0);
    } finally {
      await stdioClient.close();
    }
  });

  it("answers with an error that says what to do when the token is wrong", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(PROJECT_ROOT, "bin/mesh-mcp.mjs")],
      env: { PATH: process.env.PATH ?? "", MESH_URL: mesh.url, MESH_ORCHESTRATOR_TOKEN: "wrong-token-0000000000" },
      stderr: "pipe",
    });
    const stdioClient = new Client({ name: "mesh-test-stdio", version: "1.0.0" });
    await expect(stdioClient.connect(transport)).rejects.toThrow(/MESH_ORCHESTRATOR_TOKEN/);
    await stdioClient.close();
  });
});
