// Anthropic Messages (`POST /v1/messages`), what claude calls with ANTHROPIC_BASE_URL: streamed
// as message_start, content blocks, message_delta with the usage, message_stop.
import { field, isRecord, list } from "./json-reading.ts";
import { nextId, sseEvent, type Answer } from "./model-answer.ts";
import type { Turn, Usage } from "./scripted-turns.ts";

/** Tool results the conversation carries back: `tool_result` blocks in the messages. */
export function anthropicToolResults(body: unknown): number {
  return list(body, "messages").flatMap((message) => list(message, "content")).filter((block) => field(block, "type") === "tool_result").length;
}

export function anthropicOffersTools(body: unknown): boolean {
  return list(body, "tools").length > 0;
}

/** claude's own write tool: `Write` with `file_path` and `content`. */
function contentBlock(turn: Turn): Record<string, unknown> {
  if ("text" in turn) return { type: "text", text: turn.text };
  return { type: "tool_use", id: nextId("toolu"), name: "Write", input: { file_path: turn.write.path, content: turn.write.content } };
}

export function anthropicAnswer(turn: Turn, model: string, usage: Usage, stream: boolean): Answer {
  const block = contentBlock(turn);
  const stopReason = "text" in turn ? "end_turn" : "tool_use";
  const id = nextId("msg");
  const fullUsage = { input_tokens: usage.input, output_tokens: usage.output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (!stream) return { kind: "json", status: 200, body: { id, type: "message", role: "assistant", model, content: [block], stop_reason: stopReason, stop_sequence: null, usage: fullUsage } };
  const opened = isRecord(block) && block.type === "tool_use" ? { ...block, input: {} } : { type: "text", text: "" };
  const delta = "text" in turn ? { type: "text_delta", text: turn.text } : { type: "input_json_delta", partial_json: JSON.stringify(block.input) };
  return {
    kind: "sse",
    events: [
      sseEvent({ type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...fullUsage, output_tokens: 1 } } }, "message_start"),
      sseEvent({ type: "content_block_start", index: 0, content_block: opened }, "content_block_start"),
      sseEvent({ type: "content_block_delta", index: 0, delta }, "content_block_delta"),
      sseEvent({ type: "content_block_stop", index: 0 }, "content_block_stop"),
      sseEvent({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output } }, "message_delta"),
      sseEvent({ type: "message_stop" }, "message_stop"),
    ],
  };
}
