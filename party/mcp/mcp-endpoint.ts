import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import type * as Party from "partykit/server";
import { errorResponse, json } from "../http/responses.ts";
import { refuseRequest } from "../http/refuse-request.ts";
import { orchestratorContext } from "../edge/api-routes.ts";
import { registerMeshTools } from "./mesh-tools.ts";
import { registerWorkTools } from "./work-tools.ts";
import { errorResult } from "./tool-results.ts";

export const MCP_PATH = "/mcp";

/**
 * Browsers send `Origin`; a page on another site must not drive the mesh through a person's
 * browser (DNS-rebinding attacks have hit MCP servers). Same origin, or one listed in
 * MESH_ALLOWED_ORIGINS (comma-separated), passes; clients that send no Origin are not browsers.
 */
function originAllowed(request: Request, url: URL, env: Record<string, unknown>): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  const allowed = typeof env.MESH_ALLOWED_ORIGINS === "string" ? env.MESH_ALLOWED_ORIGINS.split(",").map((o) => o.trim()) : [];
  return origin === url.origin || allowed.includes(origin);
}

/**
 * The MCP endpoint, stateless: a fresh server and transport per request, so a server restart never
 * strands a client's session. Progress notifications stream on the request's own response.
 */
export async function handleMcp(request: Request, url: URL, lobby: Party.FetchLobby): Promise<Response> {
  const ctx = await orchestratorContext(request, url, lobby);
  if (ctx instanceof Response) return ctx;
  if (!originAllowed(request, url, lobby.env)) {
    return refuseRequest(request, errorResponse("forbidden", `origin ${request.headers.get("origin")} may not call the MCP endpoint; add it to MESH_ALLOWED_ORIGINS if it should`));
  }
  if (request.method !== "POST") {
    return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: this MCP server is stateless; use POST" }, id: null }), {
      status: 405,
      headers: { allow: "POST", "content-type": "application/json" },
    });
  }
  const server = new McpServer({ name: "agent-mesh", version: "0.1.0" }, { capabilities: { tools: {}, logging: {} }, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  // The SDK answers invalid arguments and unknown tools with a bare message; give them the mesh's
  // `code: message` shape like every other tool error (a private hook, so the cast is deliberate).
  (server as unknown as { createToolError: (message: string) => unknown }).createToolError = (message: string) => {
    const text = message.replace(/^MCP error -?\d+: /, "");
    return errorResult({ code: /not found/i.test(text) ? "not_found" : "bad_request", message: text });
  };
  registerMeshTools(server, ctx);
  registerWorkTools(server, ctx);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } catch (error) {
    return json({ jsonrpc: "2.0", error: { code: -32603, message: `internal error: ${error instanceof Error ? error.message : String(error)}` }, id: null }, 500);
  }
}
