// Anthropic Messages (`POST /v1/messages`), what claude calls with ANTHROPIC_BASE_URL: streamed
// as message_start, content blocks, message_delta with the usage, message_stop.
import { field, isRecord, list, text } from "./json-reading.ts";
import { type Answer, nextId, sseEvent } from "./model-answer.ts";
import type { RequestText } from "./request-text.ts";
import type { TextTurn, ToolTurn, Usage } from "./scripted-turns.ts";

/** Tool results the conversation carries back: `tool_result` blocks in the messages. */
export function anthropicToolResults(body: unknown): number {
  return list(body, "messages")
    .flatMap((message) => list(message, "content"))
    .filter((block) => field(block, "type") === "tool_result").length;
}

export function anthropicOffersTools(body: unknown): boolean {
  return list(body, "tools").length > 0;
}

/** A block's text: a text block, or a tool result's content (a string or text blocks). */
function blockText(block: unknown): string[] {
  if (typeof block === "string") return [block];
  if (field(block, "type") === "text") return [text(block, "text") ?? ""];
  if (field(block, "type") !== "tool_result") return [];
  const content = field(block, "content");
  return typeof content === "string" ? [content] : list(block, "content").flatMap(blockText);
}

/** The user and tool text of the conversation, in order. */
export function anthropicPrompt(body: unknown): RequestText {
  const messages = list(body, "messages");
  const parts = messages
    .filter((message) => field(message, "role") === "user")
    .flatMap((message) => {
      const content = field(message, "content");
      return typeof content === "string" ? [content] : list(message, "content").flatMap(blockText);
    });
  return { prompt: parts.join("\n"), messages: messages.length };
}

/** claude's own tools: `Write` {file_path, content}, `Edit` {file_path, old_string, new_string}, `Read` {file_path}. */
function contentBlock(turn: ToolTurn | TextTurn): Record<string, unknown> {
  if ("text" in turn) return { type: "text", text: turn.text };
  const id = nextId("toolu");
  if ("write" in turn)
    return { type: "tool_use", id, name: "Write", input: { file_path: turn.write.path, content: turn.write.content } };
  if ("edit" in turn)
    return {
      type: "tool_use",
      id,
      name: "Edit",
      input: { file_path: turn.edit.path, old_string: turn.edit.old, new_string: turn.edit.new },
    };
  return { type: "tool_use", id, name: "Read", input: { file_path: turn.read.path } };
}

/** Anthropic's error body: `{type: "error", error: {type, message}}`. */
export function anthropicFailure(status: number, message: string): Answer {
  const type =
    status === 401
      ? "authentication_error"
      : status === 429
        ? "rate_limit_error"
        : status === 400
          ? "invalid_request_error"
          : "api_error";
  return { kind: "json", status, body: { type: "error", error: { type, message } } };
}

export function anthropicAnswer(turn: ToolTurn | TextTurn, model: string, usage: Usage, stream: boolean): Answer {
  const block = contentBlock(turn);
  const stopReason = "text" in turn ? "end_turn" : "tool_use";
  const id = nextId("msg");
  const fullUsage = {
    input_tokens: usage.input,
    output_tokens: usage.output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  if (!stream)
    return {
      kind: "json",
      status: 200,
      body: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [block],
        stop_reason: stopReason,
        stop_sequence: null,
        usage: fullUsage,
      },
    };
  const opened = isRecord(block) && block.type === "tool_use" ? { ...block, input: {} } : { type: "text", text: "" };
  const delta =
    "text" in turn
      ? { type: "text_delta", text: turn.text }
      : { type: "input_json_delta", partial_json: JSON.stringify(block.input) };
  return {
    kind: "sse",
    events: [
      sseEvent(
        {
          type: "message_start",
          message: {
            id,
            type: "message",
            role: "assistant",
            model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { ...fullUsage, output_tokens: 1 },
          },
        },
        "message_start",
      ),
      sseEvent({ type: "content_block_start", index: 0, content_block: opened }, "content_block_start"),
      sseEvent({ type: "content_block_delta", index: 0, delta }, "content_block_delta"),
      sseEvent({ type: "content_block_stop", index: 0 }, "content_block_stop"),
      sseEvent(
        {
          type: "message_delta",
          delta: { stop_reason: stopReason, stop_sequence: null },
          usage: { output_tokens: usage.output },
        },
        "message_delta",
      ),
      sseEvent({ type: "message_stop" }, "message_stop"),
    ],
  };
}
