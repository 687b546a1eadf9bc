import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import type * as Party from "partykit/server";
import { AnyErrorReply, ErrorReply, MAX_BODY_BYTES, OAUTH_ACCESS_PREFIX, parseJson } from "../../protocol/index.ts";
import { bearerToken, type Defer } from "../edge/api-routes.ts";
import { refuseRequest } from "../http/refuse-request.ts";
import { errorResponse, json } from "../http/responses.ts";
import { mcpContext } from "../oauth/oauth-access.ts";
import { resourceMetadataUrl } from "../oauth/oauth-metadata.ts";
import { publicBase } from "../oauth/oauth-settings.ts";
import { registerMeshTools } from "./mesh-tools.ts";
import { registerPlanTool } from "./plan-tool.ts";
import { readOnlyTools } from "./read-only-tools.ts";
import { refuseUnknownArguments, strictTools } from "./tool-arguments.ts";
import { errorResult } from "./tool-results.ts";
import { registerWorkTools } from "./work-tools.ts";

export const MCP_PATH = "/mcp";

/**
 * Browsers send `Origin`; a page on another site must not drive the mesh through a person's
 * browser (DNS-rebinding attacks have hit MCP servers). Same origin, or one listed in
 * MESH_ALLOWED_ORIGINS (comma-separated), passes; clients that send no Origin are not browsers.
 */
function originAllowed(request: Request, url: URL, env: Record<string, unknown>): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  const allowed =
    typeof env.MESH_ALLOWED_ORIGINS === "string" ? env.MESH_ALLOWED_ORIGINS.split(",").map((o) => o.trim()) : [];
  return origin === url.origin || allowed.includes(origin);
}

/**
 * The MCP endpoint, stateless: a fresh server and transport per request, so a server restart never
 * strands a client's session. Progress notifications stream on the request's own response.
 */
export async function handleMcp(request: Request, url: URL, lobby: Party.FetchLobby, defer: Defer): Promise<Response> {
  const metadataUrl = resourceMetadataUrl(publicBase(lobby.env, url));
  const ctx = await mcpContext(request, url, lobby, defer);
  if (ctx instanceof Response) return withBearerChallenge(await inMcpWords(ctx, bearerToken(request)), metadataUrl);
  if (!originAllowed(request, url, lobby.env)) {
    return withBearerChallenge(
      await refuseRequest(
        request,
        errorResponse(
          "forbidden",
          `origin ${request.headers.get("origin")} may not call the MCP endpoint; add it to MESH_ALLOWED_ORIGINS if it should`,
        ),
      ),
      metadataUrl,
    );
  }
  if (request.method !== "POST") {
    return new Response(
      JSON.stringify({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Method not allowed: this MCP server is stateless; use POST" },
        id: null,
      }),
      {
        status: 405,
        headers: { allow: "POST", "content-type": "application/json" },
      },
    );
  }
  const server = new McpServer(
    { name: "agent-mesh", version: "0.1.0" },
    { capabilities: { tools: {}, logging: {} }, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  // The SDK answers invalid arguments and unknown tools with a bare message; give them the mesh's
  // `code: message` shape like every other tool error (a private hook, so the cast is deliberate).
  (server as unknown as { createToolError: (message: string) => unknown }).createToolError = (message: string) => {
    const text = message.replace(/^MCP error -?\d+: /, "");
    return errorResult({ code: /not found/i.test(text) ? "not_found" : "bad_request", message: text });
  };
  // Every tool refuses arguments it does not take (docs/mcp-arguments.md).
  refuseUnknownArguments(server);
  const strict = strictTools(server);
  // A `mesh:read` grant sees and calls only the tools marked read-only (docs/oauth.md).
  const tools =
    ctx.caller.role === "oauth_client" && !ctx.caller.scope.includes("mesh:orchestrate")
      ? readOnlyTools(strict)
      : strict;
  registerMeshTools(tools, ctx);
  registerWorkTools(tools, ctx);
  registerPlanTool(tools, ctx);
  const body = await readRpcBody(request);
  if (body instanceof Response) return body;
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    maxRequestBodySize: MAX_BODY_BYTES,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request, { parsedBody: body });
  } catch (error) {
    return json(
      {
        jsonrpc: "2.0",
        error: { code: -32603, message: `internal error: ${error instanceof Error ? error.message : String(error)}` },
        id: null,
      },
      500,
    );
  }
}

/**
 * A 401 for a token that is not an OAuth access token, in words for an MCP client's user: which token
 * /mcp takes and where it is kept. MCP clients show little more than this body (Claude Code in its
 * `--debug` log, where it blanks whatever follows "Authorization:" or "token:", so the words avoid
 * both; docs/oauth.md "A wrong token"). An OAuth token's refusal keeps the grant's own words.
 */
async function inMcpWords(response: Response, token: string | null): Promise<Response> {
  if (response.status !== 401 || token?.startsWith(OAUTH_ACCESS_PREFIX)) return response;
  const parsed = ErrorReply.safeParse(
    await response
      .clone()
      .json()
      .catch(() => null),
  );
  if (!parsed.success || parsed.data.error.code !== "unauthorized") return response;
  const where =
    "MESH_ORCHESTRATOR_TOKEN (npm start keeps it in .mesh/secrets.env) or an OAuth access token (docs/oauth.md)";
  const message =
    token === null
      ? `no bearer token was sent; this MCP endpoint takes ${where}`
      : `the bearer token sent is wrong; this MCP endpoint takes ${where} (claude mcp get <name> shows the header a client sends)`;
  // Its headers stay (a `connection: close` among them, from refuseRequest).
  return new Response(JSON.stringify({ error: { code: "unauthorized", message } }), {
    status: 401,
    headers: response.headers,
  });
}

/**
 * A 401 or 403 on /mcp carries a `Bearer` challenge (RFC 6750 §3, as the MCP authorization spec
 * expects) whose `error_description` is the mesh's own message, and whose `resource_metadata` leads
 * OAuth clients to the mesh's authorization server (docs/oauth.md).
 */
export async function withBearerChallenge(response: Response, metadataUrl: string): Promise<Response> {
  if (response.status !== 401 && response.status !== 403) return response;
  const body = await response.clone().text();
  // The mesh's own refusal gives its message; a body that is not JSON is the message itself.
  const refusal = parseJson(AnyErrorReply, body);
  const message = refusal.ok ? refusal.value.error.message : refusal.error.code === "bad_json" ? body : "";
  // RFC 6750 allows printable ASCII but '"' and '\' in the description.
  const description = message
    .replace(/[^\x20-\x7e]/g, "?")
    .replace(/["\\]/g, "'")
    .slice(0, 500);
  const error = response.status === 401 ? "invalid_token" : "insufficient_scope";
  const headers = new Headers(response.headers);
  // `resource_metadata` (RFC 9728 §5.1) is where OAuth clients start: the mesh is its own authorization server.
  headers.set(
    "www-authenticate",
    `Bearer realm="agent-mesh", resource_metadata="${metadataUrl}", error="${error}", error_description="${description}"`,
  );
  return new Response(body, { status: response.status, headers });
}

const rpcError = (status: number, code: number, message: string): Response =>
  json({ jsonrpc: "2.0", error: { code, message }, id: null }, status);

/**
 * The JSON-RPC body, read here so the documented limit holds (256 KiB, README "Wire errors") and
 * errors follow JSON-RPC: not JSON is -32700 (parse error); JSON that is no JSON-RPC message, such as
 * `{"hello":1}`, is -32600 (invalid request), not a parse error.
 */
async function readRpcBody(request: Request): Promise<unknown> {
  const tooLarge = (): Response => rpcError(413, -32000, `the body exceeds ${MAX_BODY_BYTES} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) return tooLarge();
  const text = await request.text();
  if (new TextEncoder().encode(text).byteLength > MAX_BODY_BYTES) return tooLarge();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return rpcError(400, -32700, "Parse error: the body is not valid JSON");
  }
  const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  if (messages.length === 0 || !messages.every((message) => JSONRPCMessageSchema.safeParse(message).success)) {
    return rpcError(
      400,
      -32600,
      'Invalid Request: the body is not a JSON-RPC 2.0 message (jsonrpc "2.0", method, and id for a request)',
    );
  }
  return parsed;
}
