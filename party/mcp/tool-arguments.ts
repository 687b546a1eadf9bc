import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { type AnyObjectSchema, getObjectShape } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ErrorBody } from "../../protocol/index.ts";
import { errorResult } from "./tool-results.ts";

// Tools refuse arguments they do not take (docs/mcp-arguments.md). The SDK turns a raw input shape into
// a zod object that strips unknown keys, so a misspelt `nmae` or an argument another tool takes was
// dropped without a word and the call ran as if it had not been given.

/** `registerTool` with its generics erased: only the config's input schema is read and replaced. */
type RegisterTool = (name: string, config: { inputSchema?: unknown }, callback: unknown) => unknown;
/** The SDK's two steps of a tools/call (private in its types, hence the cast where they are taken). */
type CallSteps = {
  validateToolInput(
    tool: { inputSchema?: AnyObjectSchema },
    args: Record<string, unknown> | undefined,
    toolName: string,
  ): Promise<unknown>;
  executeToolHandler(tool: unknown, args: unknown, extra: unknown): Promise<unknown>;
};

/** What `validateToolInput` hands on for refused arguments, in place of them: the refusal itself. */
class RefusedArguments {
  constructor(readonly error: ErrorBody) {}
}

/**
 * The server with every tool's input schema strict: a raw shape (or none) is registered as a
 * `z.strictObject`, so `tools/list` says `additionalProperties: false` and clients see what is taken.
 */
export function strictTools(server: McpServer): McpServer {
  const register = server.registerTool.bind(server) as unknown as RegisterTool;
  const strict: RegisterTool = (name, config, callback) =>
    register(name, { ...config, inputSchema: strictSchema(config.inputSchema) }, callback);
  return new Proxy(server, {
    get(target, property, receiver) {
      return property === "registerTool" ? strict : (Reflect.get(target, property, receiver) as unknown);
    },
  });
}

function strictSchema(schema: unknown): unknown {
  if (schema === undefined) return z.strictObject({});
  const isShape = typeof schema === "object" && schema !== null && !("_zod" in schema);
  return isShape ? z.strictObject(schema as z.ZodRawShape) : schema;
}

/**
 * Makes a call with arguments the tool does not take an `isError` result with code
 * `invalid_arguments` naming them (and the arguments it does take), before the SDK parses the rest.
 * Everything else about a call is the SDK's own.
 */
export function refuseUnknownArguments(server: McpServer): void {
  const steps = server as unknown as CallSteps;
  const validate = steps.validateToolInput.bind(server);
  const execute = steps.executeToolHandler.bind(server);
  steps.validateToolInput = async (tool, args, toolName) => {
    const refusal = unknownArguments(toolName, Object.keys(getObjectShape(tool.inputSchema) ?? {}), args);
    return refusal === null ? validate(tool, args, toolName) : new RefusedArguments(refusal);
  };
  steps.executeToolHandler = async (tool, args, extra): Promise<unknown> =>
    args instanceof RefusedArguments ? (errorResult(args.error) satisfies CallToolResult) : execute(tool, args, extra);
}

/** The refusal for the arguments not in `taken`, or null when every one is taken. */
export function unknownArguments(
  toolName: string,
  taken: readonly string[],
  args: Record<string, unknown> | undefined,
): ErrorBody | null {
  const unknown = Object.keys(args ?? {}).filter((key) => !taken.includes(key));
  if (unknown.length === 0) return null;
  const names =
    unknown
      .slice(0, 10)
      .map((key) => `'${key.slice(0, 64)}'`)
      .join(", ") + (unknown.length > 10 ? ` and ${unknown.length - 10} more` : "");
  const takes = taken.length === 0 ? "it takes no arguments" : `it takes ${taken.join(", ")}`;
  return {
    code: "invalid_arguments",
    message: `${toolName} does not take ${unknown.length === 1 ? "the argument" : "the arguments"} ${names}; ${takes}`,
  };
}
