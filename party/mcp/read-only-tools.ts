import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

/** `registerTool` with its generics erased: the filter only reads the config's annotations. */
type RegisterTool = (name: string, config: { annotations?: { readOnlyHint?: boolean } }, callback: unknown) => unknown;

/**
 * The server as a `mesh:read` grant sees it (docs/oauth.md): registering a tool that is not marked
 * `readOnlyHint` does nothing, so such a tool is neither listed nor callable (a call gets "not found").
 */
export function readOnlyTools(server: McpServer): McpServer {
  const register = server.registerTool.bind(server) as unknown as RegisterTool;
  const filtered: RegisterTool = (name, config, callback) =>
    config.annotations?.readOnlyHint === true ? register(name, config, callback) : undefined;
  return new Proxy(server, {
    get(target, property, receiver) {
      return property === "registerTool" ? filtered : (Reflect.get(target, property, receiver) as unknown);
    },
  });
}
