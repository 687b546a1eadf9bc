// The MCP tools take the HTTP API's own schemas (docs/mcp-tools.md): a bound refused by `POST /api/…`
// is refused by the tool too, before anything runs. The real tools on the SDK's server and client,
// linked in memory; every call here is refused by its arguments, so no room is ever asked.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import type { MeshContext } from "../../party/edge/mesh-operations.ts";
import { readJsonBody } from "../../party/http/read-body.ts";
import { registerMeshTools } from "../../party/mcp/mesh-tools.ts";
import { registerPlanTool } from "../../party/mcp/plan-tool.ts";
import { refuseUnknownArguments, strictTools } from "../../party/mcp/tool-arguments.ts";
import { registerWorkTools } from "../../party/mcp/work-tools.ts";
import { ApplyTaskRequest, CreateTaskRequest, PlanRequest } from "../../protocol/index.ts";

let client: Client;
let server: McpServer;

/** Tools that are never reached: a call that got past its arguments would find no rooms here and fail the test. */
const unreachable = new Proxy({} as MeshContext, {
  get(_target, property) {
    throw new Error(`the tool ran past its arguments (it read ctx.${String(property)})`);
  },
});

beforeAll(async () => {
  server = new McpServer({ name: "bounds-test", version: "0.0.0" }, { capabilities: { tools: {} } });
  refuseUnknownArguments(server);
  const tools = strictTools(server);
  registerMeshTools(tools, unreachable);
  registerWorkTools(tools, unreachable);
  registerPlanTool(tools, unreachable);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "bounds-test", version: "0.0.0" });
  await client.connect(clientSide);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
});

/** A call that must be refused by its arguments: one that reached the tool's body fails here. */
async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(textOf(result), name).not.toContain("ran past its arguments");
  return result;
}
const textOf = (result: CallToolResult): string =>
  result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");

/** The HTTP API's answer to the same body: its code, or "ok". */
async function httpAnswer<T>(schema: z.ZodType<T>, body: unknown): Promise<string> {
  const read = await readJsonBody(
    new Request("http://mesh/api", { method: "POST", body: JSON.stringify(body) }),
    schema,
  );
  return read.ok ? "ok" : read.error.code;
}

describe("MCP arguments hold the HTTP API's bounds", () => {
  it("refuses an empty after at execute and dispatch, as POST /api/tasks does", async () => {
    expect(await httpAnswer(CreateTaskRequest, { instruction: "x", after: [] })).toBe("bad_request");
    for (const [tool, args] of [
      ["execute", { instruction: "x" }],
      ["dispatch", { name: "n", prompt: "x" }],
    ] as const) {
      const refused = await call(tool, { ...args, after: [] });
      expect(refused.isError, tool).toBe(true);
      expect(textOf(refused), tool).toContain("after");
    }
  });

  it("refuses a max_cost_usd over 100000 or not positive, as POST /api/tasks does", async () => {
    for (const cap of [100_001, 0]) {
      expect(await httpAnswer(CreateTaskRequest, { instruction: "x", max_cost_usd: cap })).toBe("bad_request");
      const refused = await call("execute", { instruction: "x", max_cost_usd: cap });
      expect(refused.isError, String(cap)).toBe(true);
      expect(textOf(refused)).toContain("max_cost_usd");
    }
    expect(await httpAnswer(CreateTaskRequest, { instruction: "x", max_cost_usd: 100_000 })).toBe("ok");
  });

  it("refuses a plan key that is no short name, as POST /api/plan does", async () => {
    expect(await httpAnswer(PlanRequest, { tasks: [{ key: "a b", instruction: "x" }] })).toBe("bad_request");
    const refused = await call("plan", { tasks: [{ key: "a b", instruction: "x" }] });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("key");
  });

  it("refuses attempt 0 at apply and diff, as POST /api/tasks/<ref>/apply does", async () => {
    expect(await httpAnswer(ApplyTaskRequest, { attempt: 0 })).toBe("bad_request");
    for (const tool of ["apply", "diff"]) {
      const refused = await call(tool, { task_id: "01J00000000000000000000000", attempt: 0 });
      expect(refused.isError, tool).toBe(true);
      expect(textOf(refused), tool).toContain("attempt");
    }
  });

  it("lists the same bounds in the tools' JSON schemas", async () => {
    const { tools } = await client.listTools();
    const execute = tools.find((tool) => tool.name === "execute")?.inputSchema.properties ?? {};
    expect(execute.after).toMatchObject({ minItems: 1, maxItems: 50 });
    expect(execute.max_cost_usd).toMatchObject({ maximum: 100_000 });
    // A plan's task may name no prerequisite (an empty after), at /api/plan and at the tool alike.
    expect(PlanRequest.safeParse({ tasks: [{ key: "a", instruction: "x", after: [] }] }).success).toBe(true);
    const planTask =
      (
        tools.find((tool) => tool.name === "plan")?.inputSchema.properties?.tasks as
          | { items?: { properties?: Record<string, unknown> } }
          | undefined
      )?.items?.properties ?? {};
    expect(planTask.after).toMatchObject({ maxItems: 50 });
    expect(planTask.after).not.toHaveProperty("minItems");
    const revoke = tools.find((tool) => tool.name === "revoke_agent");
    expect(revoke?.outputSchema?.properties).toHaveProperty("requeued");
  });
});
