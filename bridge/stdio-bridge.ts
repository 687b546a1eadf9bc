// `npm run mcp` (and the `mesh-mcp` bin): the mesh's MCP tools over stdio, for hosts that only speak
// stdio. Every JSON-RPC message is relayed between stdin/stdout and the mesh's `POST /mcp`.
// Configured by MESH_URL (default http://127.0.0.1:1999) and MESH_ORCHESTRATOR_TOKEN.
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { readCommandLine } from "../launcher/command-line.ts";

/**
 * What fetch's TypeError carries as its cause when the network failed: the system error's code (ECONNREFUSED,
 * ENOTFOUND…).
 */
const NetworkCause = z.object({ code: z.string() });

readCommandLine(
  "mesh-mcp",
  `usage: mesh-mcp [--help] [--version]
The mesh's MCP tools over stdio, for hosts that only speak stdio (README "MCP"). Configured by the environment:
  MESH_ORCHESTRATOR_TOKEN  the orchestrator token (npm start writes it to .mesh/secrets.env); required
  MESH_URL                 the mesh's base URL (default http://127.0.0.1:1999)`,
  {},
);
const base = process.env.MESH_URL ?? "http://127.0.0.1:1999";
const token = process.env.MESH_ORCHESTRATOR_TOKEN;
if (!token) {
  process.stderr.write(
    "mesh-mcp: set MESH_ORCHESTRATOR_TOKEN (npm start writes it to .mesh/secrets.env) and MESH_URL if the mesh is not at http://127.0.0.1:1999\n",
  );
  process.exit(2);
}
let endpoint: URL;
try {
  endpoint = new URL("/mcp", base);
} catch {
  process.stderr.write(`mesh-mcp: MESH_URL '${base}' is not a URL; use e.g. http://127.0.0.1:1999\n`);
  process.exit(2);
}

const http = new StreamableHTTPClientTransport(endpoint, {
  requestInit: { headers: { authorization: `Bearer ${token}` } },
});
const stdio = new StdioServerTransport();

/**
 * Why a relay failed, in words the person reading the host's log can act on. Told apart by typed
 * codes, never by the error's text: the SDK's HTTP status, and the errno under fetch's network failure.
 */
function explain(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof StreamableHTTPError && error.code === 401)
    return `the mesh at ${base} refused the token (401): set MESH_ORCHESTRATOR_TOKEN to the server's orchestrator token`;
  // fetch rejects with a TypeError only when the request never got an answer.
  if (error instanceof TypeError) {
    const cause = NetworkCause.safeParse(error.cause);
    return `the mesh at ${base} is not reachable (${text}${cause.success ? `: ${cause.data.code}` : ""}): is it running? (npm start)`;
  }
  return `the mesh at ${base} failed the request: ${text}`;
}

stdio.onmessage = (message: JSONRPCMessage) => {
  http.send(message).catch((error: unknown) => {
    const reason = explain(error);
    process.stderr.write(`mesh-mcp: ${reason}\n`);
    // A request must get an answer, or the host waits for ever.
    if ("id" in message && "method" in message) {
      void stdio.send({ jsonrpc: "2.0", id: message.id, error: { code: -32000, message: reason } });
    }
  });
};
http.onmessage = (message: JSONRPCMessage) => void stdio.send(message);
http.onerror = (error: Error) => process.stderr.write(`mesh-mcp: ${explain(error)}\n`);
stdio.onclose = () => void http.close().finally(() => process.exit(0));

await http.start();
await stdio.start();
process.stderr.write(`mesh-mcp: relaying stdio to ${endpoint.href}\n`);
