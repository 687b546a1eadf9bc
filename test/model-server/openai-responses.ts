// OpenAI Responses (`POST /v1/responses`), what codex calls through a `model_providers` entry:
// streamed as response.created, one output item, response.completed with the usage.
import { field, list, text } from "./json-reading.ts";
import { nextId, sseEvent, type Answer } from "./model-answer.ts";
import type { Turn, Usage } from "./scripted-turns.ts";

const RESULT_TYPES = new Set(["function_call_output", "custom_tool_call_output"]);

/** Tool results the conversation carries back: `*_call_output` items in the input. */
export function responsesToolResults(body: unknown): number {
  return list(body, "input").filter((item) => RESULT_TYPES.has(String(field(item, "type")))).length;
}

export function responsesOffersTools(body: unknown): boolean {
  return list(body, "tools").length > 0;
}

/** The patch codex's `apply_patch` tool takes to add one file. */
function addFilePatch(path: string, content: string): string {
  const lines = content.split("\n").filter((line, index, all) => index < all.length - 1 || line !== "");
  return ["*** Begin Patch", `*** Add File: ${path}`, ...lines.map((line) => `+${line}`), "*** End Patch", ""].join("\n");
}

/**
 * codex's own way to write a file among the tools the request offers: `apply_patch` (a freeform
 * custom tool or a function), else its shell tool with a redirect. Undefined when none is offered.
 */
function writeItem(body: unknown, path: string, content: string): Record<string, unknown> | undefined {
  const tools = list(body, "tools");
  const named = (name: string): unknown => tools.find((tool) => text(tool, "name") === name);
  const callId = nextId("call");
  const patch = addFilePatch(path, content);
  const applyPatch = named("apply_patch");
  if (applyPatch !== undefined && field(applyPatch, "type") === "custom") return { type: "custom_tool_call", id: nextId("ctc"), call_id: callId, name: "apply_patch", input: patch, status: "completed" };
  if (applyPatch !== undefined) return { type: "function_call", id: nextId("fc"), call_id: callId, name: "apply_patch", arguments: JSON.stringify({ input: patch }), status: "completed" };
  const script = `printf '%s\\n' ${JSON.stringify(content.replace(/\n$/, ""))} > ${path}`;
  if (named("shell_command") !== undefined) return { type: "function_call", id: nextId("fc"), call_id: callId, name: "shell_command", arguments: JSON.stringify({ command: script }) };
  if (named("exec_command") !== undefined) return { type: "function_call", id: nextId("fc"), call_id: callId, name: "exec_command", arguments: JSON.stringify({ cmd: script }) };
  if (named("shell") !== undefined) return { type: "function_call", id: nextId("fc"), call_id: callId, name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", script] }) };
  return undefined;
}

export function responsesAnswer(body: unknown, turn: Turn, model: string, usage: Usage): Answer {
  const id = nextId("resp");
  const item = "text" in turn
    ? { type: "message", id: nextId("msg"), role: "assistant", status: "completed", content: [{ type: "output_text", text: turn.text, annotations: [] }] }
    : (writeItem(body, turn.write.path, turn.write.content) ?? { type: "message", id: nextId("msg"), role: "assistant", status: "completed", content: [{ type: "output_text", text: "mesh model server: the request offered no apply_patch or shell tool to write with", annotations: [] }] });
  const usageBody = { input_tokens: usage.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: usage.input + usage.output };
  const response = { id, object: "response", created_at: Math.floor(Date.now() / 1000), model, status: "in_progress", output: [] as unknown[] };
  return {
    kind: "sse",
    events: [
      sseEvent({ type: "response.created", sequence_number: 0, response }, "response.created"),
      sseEvent({ type: "response.output_item.added", sequence_number: 1, output_index: 0, item }, "response.output_item.added"),
      sseEvent({ type: "response.output_item.done", sequence_number: 2, output_index: 0, item }, "response.output_item.done"),
      sseEvent({ type: "response.completed", sequence_number: 3, response: { ...response, status: "completed", output: [item], usage: usageBody } }, "response.completed"),
    ],
  };
}
