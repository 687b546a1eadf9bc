// OpenAI Responses (`POST /v1/responses`), what codex calls through a `model_providers` entry:
// streamed as response.created, one output item, response.completed with the usage.
import { field, list, text } from "./json-reading.ts";
import { type Answer, nextId, sseEvent } from "./model-answer.ts";
import type { RequestText } from "./request-text.ts";
import type { TextTurn, ToolTurn, Usage } from "./scripted-turns.ts";

const RESULT_TYPES = new Set(["function_call_output", "custom_tool_call_output"]);

/** Tool results the conversation carries back: `*_call_output` items in the input. */
export function responsesToolResults(body: unknown): number {
  return list(body, "input").filter((item) => RESULT_TYPES.has(String(field(item, "type")))).length;
}

export function responsesOffersTools(body: unknown): boolean {
  return list(body, "tools").length > 0;
}

/** The user messages' and tool outputs' text, in order (codex's developer instructions left out). */
export function responsesPrompt(body: unknown): RequestText {
  const input = list(body, "input");
  const parts = input.flatMap((item) => {
    if (field(item, "type") === "message" && field(item, "role") === "user")
      return list(item, "content").map((part) => text(part, "text") ?? "");
    if (!RESULT_TYPES.has(String(field(item, "type")))) return [];
    const output = field(item, "output");
    return typeof output === "string" ? [output] : list(item, "output").map((part) => text(part, "text") ?? "");
  });
  return { prompt: parts.join("\n"), messages: input.length };
}

const lines = (content: string): string[] =>
  content.split("\n").filter((line, index, all) => index < all.length - 1 || line !== "");

/** The patch codex's `apply_patch` tool takes to add one file. */
function addFilePatch(path: string, content: string): string {
  return [
    "*** Begin Patch",
    `*** Add File: ${path}`,
    ...lines(content).map((line) => `+${line}`),
    "*** End Patch",
    "",
  ].join("\n");
}

/** The patch that replaces the lines `old` by the lines `replacement` in `path` (whole lines). */
function updateFilePatch(path: string, old: string, replacement: string): string {
  return [
    "*** Begin Patch",
    `*** Update File: ${path}`,
    "@@",
    ...lines(old).map((line) => `-${line}`),
    ...lines(replacement).map((line) => `+${line}`),
    "*** End Patch",
    "",
  ].join("\n");
}

/** A call of codex's shell tool, whichever of its names the request offers. */
function shellItem(named: (name: string) => unknown, script: string): Record<string, unknown> | undefined {
  const callId = nextId("call");
  if (named("shell_command") !== undefined)
    return {
      type: "function_call",
      id: nextId("fc"),
      call_id: callId,
      name: "shell_command",
      arguments: JSON.stringify({ command: script }),
    };
  if (named("exec_command") !== undefined)
    return {
      type: "function_call",
      id: nextId("fc"),
      call_id: callId,
      name: "exec_command",
      arguments: JSON.stringify({ cmd: script }),
    };
  if (named("shell") !== undefined)
    return {
      type: "function_call",
      id: nextId("fc"),
      call_id: callId,
      name: "shell",
      arguments: JSON.stringify({ command: ["bash", "-lc", script] }),
    };
  return undefined;
}

/**
 * codex's own way to run a tool turn among the tools the request offers: `apply_patch` (a freeform
 * custom tool or a function) to write or edit, else its shell tool; a read is always the shell's
 * `cat`. Undefined when none is offered.
 */
function toolItem(body: unknown, turn: ToolTurn): Record<string, unknown> | undefined {
  const tools = list(body, "tools");
  const named = (name: string): unknown => tools.find((tool) => text(tool, "name") === name);
  if ("read" in turn) return shellItem(named, `cat ${JSON.stringify(turn.read.path)}`);
  const patch =
    "write" in turn
      ? addFilePatch(turn.write.path, turn.write.content)
      : updateFilePatch(turn.edit.path, turn.edit.old, turn.edit.new);
  const applyPatch = named("apply_patch");
  if (applyPatch !== undefined && field(applyPatch, "type") === "custom")
    return {
      type: "custom_tool_call",
      id: nextId("ctc"),
      call_id: nextId("call"),
      name: "apply_patch",
      input: patch,
      status: "completed",
    };
  if (applyPatch !== undefined)
    return {
      type: "function_call",
      id: nextId("fc"),
      call_id: nextId("call"),
      name: "apply_patch",
      arguments: JSON.stringify({ input: patch }),
      status: "completed",
    };
  return shellItem(named, `apply_patch <<'MESH_PATCH'\n${patch}MESH_PATCH`);
}

const message = (said: string): Record<string, unknown> => ({
  type: "message",
  id: nextId("msg"),
  role: "assistant",
  status: "completed",
  content: [{ type: "output_text", text: said, annotations: [] }],
});

export function responsesAnswer(body: unknown, turn: ToolTurn | TextTurn, model: string, usage: Usage): Answer {
  const id = nextId("resp");
  const item =
    "text" in turn
      ? message(turn.text)
      : (toolItem(body, turn) ?? message("mesh model server: the request offered no apply_patch or shell tool to use"));
  const usageBody = {
    input_tokens: usage.input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + usage.output,
  };
  const response = {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model,
    status: "in_progress",
    output: [] as unknown[],
  };
  return {
    kind: "sse",
    events: [
      sseEvent({ type: "response.created", sequence_number: 0, response }, "response.created"),
      sseEvent(
        { type: "response.output_item.added", sequence_number: 1, output_index: 0, item },
        "response.output_item.added",
      ),
      sseEvent(
        { type: "response.output_item.done", sequence_number: 2, output_index: 0, item },
        "response.output_item.done",
      ),
      sseEvent(
        {
          type: "response.completed",
          sequence_number: 3,
          response: { ...response, status: "completed", output: [item], usage: usageBody },
        },
        "response.completed",
      ),
    ],
  };
}
