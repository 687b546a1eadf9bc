// OpenAI-compatible chat completions (`POST /v1/chat/completions`), what opencode calls for a
// provider with a `baseURL`: streamed as chunks, a finish chunk, a usage chunk, then [DONE].
import { field, list, text } from "./json-reading.ts";
import { type Answer, nextId, sseEvent } from "./model-answer.ts";
import type { RequestText } from "./request-text.ts";
import type { TextTurn, ToolTurn, Usage } from "./scripted-turns.ts";

/** Tool results the conversation carries back: messages of role `tool`. */
export function chatToolResults(body: unknown): number {
  return list(body, "messages").filter((message) => field(message, "role") === "tool").length;
}

export function chatOffersTools(body: unknown): boolean {
  return list(body, "tools").length > 0;
}

/** The user and tool text of the conversation, in order (content a string or text parts). */
export function chatPrompt(body: unknown): RequestText {
  const messages = list(body, "messages");
  const parts = messages
    .filter((message) => ["user", "tool"].includes(String(field(message, "role"))))
    .flatMap((message) => {
      const content = field(message, "content");
      return typeof content === "string" ? [content] : list(message, "content").map((part) => text(part, "text") ?? "");
    });
  return { prompt: parts.join("\n"), messages: messages.length };
}

/** opencode's own tools: `write` {filePath, content}, `edit` {filePath, oldString, newString}, `read` {filePath}. */
function toolCall(turn: ToolTurn): { id: string; type: "function"; function: { name: string; arguments: string } } {
  const call = (name: string, args: Record<string, string>) => ({
    id: nextId("call"),
    type: "function" as const,
    function: { name, arguments: JSON.stringify(args) },
  });
  if ("write" in turn) return call("write", { filePath: turn.write.path, content: turn.write.content });
  if ("edit" in turn)
    return call("edit", { filePath: turn.edit.path, oldString: turn.edit.old, newString: turn.edit.new });
  return call("read", { filePath: turn.read.path });
}

/** OpenAI's error body: `{error: {message, type, code, param}}`. */
export function openAiFailure(status: number, message: string): Answer {
  const [type, code] =
    status === 401
      ? ["invalid_request_error", "invalid_api_key"]
      : status === 429
        ? ["rate_limit_error", "rate_limit_exceeded"]
        : status === 400
          ? ["invalid_request_error", null]
          : ["server_error", null];
  return { kind: "json", status, body: { error: { message, type, code, param: null } } };
}

export function chatAnswer(turn: ToolTurn | TextTurn, model: string, usage: Usage, stream: boolean): Answer {
  const id = nextId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const usageBody = {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
  };
  const finish = "text" in turn ? "stop" : "tool_calls";
  const call = "text" in turn ? undefined : toolCall(turn);
  if (!stream) {
    const message =
      call === undefined
        ? { role: "assistant", content: "text" in turn ? turn.text : "" }
        : { role: "assistant", content: null, tool_calls: [call] };
    return {
      kind: "json",
      status: 200,
      body: {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message, finish_reason: finish }],
        usage: usageBody,
      },
    };
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    sseEvent({ id, object: "chat.completion.chunk", created, model, choices, ...extra });
  const delta =
    call === undefined
      ? { role: "assistant", content: "text" in turn ? turn.text : "" }
      : { role: "assistant", content: null, tool_calls: [{ index: 0, ...call }] };
  return {
    kind: "sse",
    events: [
      chunk([{ index: 0, delta, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: finish }]),
      chunk([], { usage: usageBody }),
      sseEvent("[DONE]"),
    ],
  };
}
