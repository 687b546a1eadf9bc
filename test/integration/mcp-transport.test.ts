// The MCP endpoint's edges against a real mesh: JSON-RPC framing and size, the bearer token and its
// challenge, Origin and method refusals, a client kept across a server restart, and the stdio bridge
// (the tools themselves: mcp.test.ts).
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { callTool, mcpHttpClient, taskOf } from "./mcp-test-client.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;
let client: Client;

const httpClient = (token = mesh.orchestratorToken) => mcpHttpClient(mesh, token);
const call = (name: string, args: Record<string, unknown>) => callTool(client, name, args);

beforeAll(async () => {
  mesh = await startMesh();
  agent = await startAgent(mesh, "vm-mcp", {
    executors: {
      // execute starts at the bottom of the ladder: 60 lines, so the bridge has progress to carry.
      deepseek: {
        command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "60", "0", "5", "100"],
        format: "text",
        timeout_s: 60,
      },
    },
  });
  const http = httpClient();
  client = http.client;
  await client.connect(http.transport);
});

afterAll(async () => {
  await client?.close();
  await agent?.stop();
  await mesh?.stop();
});

describe("MCP over Streamable HTTP: the endpoint", () => {
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
