// OpenAI-compatible chat completions (`POST /v1/chat/completions`), what opencode calls for a
// provider with a `baseURL`: streamed as chunks, a finish chunk, a usage chunk, then [DONE].
import { field, list } from "./json-reading.ts";
import { nextId, sseEvent, type Answer } from "./model-answer.ts";
import type { Turn, Usage } from "./scripted-turns.ts";

/** Tool results the conversation carries back: messages of role `tool`. */
export function chatToolResults(body: unknown): number {
  return list(body, "messages").filter((message) => field(message, "role") === "tool").length;
}

export function chatOffersTools(body: unknown): boolean {
  return list(body, "tools").length > 0;
}

/** opencode's own write tool: `write` with `filePath` and `content`. */
function toolCall(turn: { write: { path: string; content: string } }): { id: string; type: "function"; function: { name: string; arguments: string } } {
  return { id: nextId("call"), type: "function", function: { name: "write", arguments: JSON.stringify({ filePath: turn.write.path, content: turn.write.content }) } };
}

export function chatAnswer(turn: Turn, model: string, usage: Usage, stream: boolean): Answer {
  const id = nextId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const usageBody = { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output };
  const finish = "text" in turn ? "stop" : "tool_calls";
  const call = "text" in turn ? undefined : toolCall(turn);
  if (!stream) {
    const message = call === undefined ? { role: "assistant", content: "text" in turn ? turn.text : "" } : { role: "assistant", content: null, tool_calls: [call] };
    return { kind: "json", status: 200, body: { id, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: finish }], usage: usageBody } };
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string => sseEvent({ id, object: "chat.completion.chunk", created, model, choices, ...extra });
  const delta = call === undefined ? { role: "assistant", content: "text" in turn ? turn.text : "" } : { role: "assistant", content: null, tool_calls: [{ index: 0, ...call }] };
  return {
    kind: "sse",
    events: [chunk([{ index: 0, delta, finish_reason: null }]), chunk([{ index: 0, delta: {}, finish_reason: finish }]), chunk([], { usage: usageBody }), sseEvent("[DONE]")],
  };
}
