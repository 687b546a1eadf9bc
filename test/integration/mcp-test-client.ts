// The SDK's own MCP Client as the integration tests use it: over Streamable HTTP with a bearer token,
// calls that wait for long tools while progress arrives, and the readers of a tool's result.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { TaskView } from "../../protocol/index.ts";
import type { Mesh } from "./mesh-harness.ts";

export function mcpHttpClient(
  mesh: Mesh,
  token = mesh.orchestratorToken,
): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  return { client: new Client({ name: "mesh-test", version: "1.0.0" }), transport };
}

export async function callTool(
  client: Client,
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

export const taskOf = (result: CallToolResult): TaskView => result.structuredContent as TaskView;
export const textOf = (result: CallToolResult): string =>
  result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
