// MCP tools refuse arguments they do not take (docs/mcp-arguments.md), `execute` takes a name, a 401 from
// /mcp says which token it takes, and the diff of a cancelled task says it never will have one. The
// SDK's own Client against a real mesh (partykit dev); no agent is needed: the tasks stay queued.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody, TaskView } from "../../protocol/index.ts";
import { type Mesh, startMesh } from "./mesh-harness.ts";

let mesh: Mesh;
let client: Client;

const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;
const errorOf = (result: CallToolResult): ErrorBody | undefined =>
  result._meta?.["agent-mesh/error"] as ErrorBody | undefined;
const textOf = (result: CallToolResult): string =>
  result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");

beforeAll(async () => {
  mesh = await startMesh();
  client = new Client({ name: "mesh-arguments-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${mesh.orchestratorToken}` } },
    }),
  );
}, 120_000);

afterAll(async () => {
  await client?.close();
  await mesh?.stop();
});

describe("MCP tool arguments", () => {
  it("lists every tool's input schema as strict (additionalProperties: false)", async () => {
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(10);
    for (const tool of tools) expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
    const execute = tools.find((tool) => tool.name === "execute");
    expect(Object.keys(execute?.inputSchema.properties ?? {})).toContain("name");
  });

  it("refuses an argument the tool does not take: isError, invalid_arguments, naming it; nothing is created", async () => {
    const before = (await mesh.api<{ tasks: unknown[] }>("/api/tasks")).body.tasks.length;
    const misspelt = await call("execute", { instruction: "print", nmae: "typo", wait_s: 0 });
    expect(misspelt.isError).toBe(true);
    expect(errorOf(misspelt)?.code).toBe("invalid_arguments");
    expect(textOf(misspelt)).toMatch(
      /^invalid_arguments: execute does not take the argument 'nmae'; it takes instruction, name, /,
    );
    const two = await call("result", { task_id: "01J00000000000000000000000", verbose: true, format: "json" });
    expect(errorOf(two)).toMatchObject({
      code: "invalid_arguments",
      message: expect.stringContaining("the arguments 'verbose', 'format'"),
    });
    // A tool without arguments takes none.
    const none = await call("list_agents", { all: true });
    expect(errorOf(none)).toEqual({
      code: "invalid_arguments",
      message: "list_agents does not take the argument 'all'; it takes no arguments",
    });
    expect((await mesh.api<{ tasks: unknown[] }>("/api/tasks")).body.tasks.length).toBe(before);
  });

  it("still answers a wrong type as before (bad_request), and a plan task's unknown key is refused too", async () => {
    const wrongType = await call("execute", { instruction: 42 });
    expect(errorOf(wrongType)?.code).toBe("bad_request");
    const plan = await call("plan", { tasks: [{ key: "a", instruction: "x", colour: "red" }] });
    expect(plan.isError).toBe(true);
    expect(textOf(plan)).toContain("colour");
  });

  it("execute takes a name: the task is named, and result by that name finds it", async () => {
    const executed = await call("execute", { instruction: "print", name: "named-by-execute", wait_s: 0 });
    expect(executed.isError).toBeFalsy();
    const task = executed.structuredContent as TaskView;
    expect(task.name).toBe("named-by-execute");
    const found = await call("result", { name: "named-by-execute" });
    expect(found.isError).toBeFalsy();
    expect((found.structuredContent as TaskView).task_id).toBe(task.task_id);
    // The name is held while the task is unfinished, as dispatch's names are.
    expect(errorOf(await call("execute", { instruction: "again", name: "named-by-execute", wait_s: 0 }))?.code).toBe(
      "name_in_use",
    );
    await call("cancel", { name: "named-by-execute" });
  });

  it("the diff of a cancelled task says it ended without a result, not that it has none yet", async () => {
    const created = await mesh.api<{ task_id: string }>("/api/tasks", {
      method: "POST",
      body: { instruction: "never runs", cwd: "/tmp" },
    });
    await mesh.api(`/api/tasks/${created.body.task_id}/cancel`, { method: "POST" });
    const diff = await mesh.api<{ error: ErrorBody }>(`/api/tasks/${created.body.task_id}/diff`);
    expect(diff.status).toBe(409);
    expect(diff.body.error.message).toBe(
      `task ${created.body.task_id} was cancelled before it had a result, so it has no diff; none of its attempts has a diff`,
    );
    const tool = await call("diff", { task_id: created.body.task_id });
    expect(textOf(tool)).not.toContain("yet");
  });
});

describe("a 401 from /mcp", () => {
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
  });
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };

  it("says which token /mcp takes, in the body and the Bearer challenge, without the header's name (Claude Code blanks what follows it, or token:, in its log)", async () => {
    const wrong = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: { ...headers, authorization: "Bearer wrong-token-0000000000" },
      body,
    });
    expect(wrong.status).toBe(401);
    const message =
      "the bearer token sent is wrong; this MCP endpoint takes MESH_ORCHESTRATOR_TOKEN (npm start keeps it in .mesh/secrets.env) or an OAuth access token (docs/oauth.md) (claude mcp get <name> shows the header a client sends)";
    expect(await wrong.json()).toEqual({ error: { code: "unauthorized", message } });
    expect(wrong.headers.get("www-authenticate")).toBe(
      `Bearer realm="agent-mesh", resource_metadata="${mesh.url}/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="${message}"`,
    );
    expect(message).not.toMatch(/authorization:|token:/i);
    const missing = await fetch(`${mesh.url}/mcp`, { method: "POST", headers, body });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: ErrorBody }).error.message).toMatch(
      /^no bearer token was sent; this MCP endpoint takes MESH_ORCHESTRATOR_TOKEN/,
    );
    // The SDK client's error carries the body.
    const stranger = new Client({ name: "stranger", version: "1" });
    await expect(
      stranger.connect(
        new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
          requestInit: { headers: { authorization: "Bearer wrong-token-0000000000" } },
        }),
      ),
    ).rejects.toThrow(/the bearer token sent is wrong; this MCP endpoint takes MESH_ORCHESTRATOR_TOKEN/);
  });

  it("keeps the grant's own words for an OAuth access token it does not know", async () => {
    const unknown = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: { ...headers, authorization: "Bearer mat_unknown-token-000000000000" },
      body,
    });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: ErrorBody }).error.message).toMatch(/access token is unknown/);
  });
});
