// Gemini (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse`, `:generateContent`,
// `:countTokens`), what gemini calls with GOOGLE_GEMINI_BASE_URL: each chunk a candidate with parts
// and the usage metadata.
import { field, list, text } from "./json-reading.ts";
import { type Answer, sseEvent } from "./model-answer.ts";
import type { RequestText } from "./request-text.ts";
import type { TextTurn, ToolTurn, Usage } from "./scripted-turns.ts";

/** Tool results the conversation carries back: `functionResponse` parts in the contents. */
export function geminiToolResults(body: unknown): number {
  return list(body, "contents")
    .flatMap((content) => list(content, "parts"))
    .filter((part) => field(part, "functionResponse") !== undefined).length;
}

export function geminiOffersTools(body: unknown): boolean {
  return list(body, "tools").some((tool) => list(tool, "functionDeclarations").length > 0);
}

/** The user parts' text and function responses (as JSON), in order. */
export function geminiPrompt(body: unknown): RequestText {
  const contents = list(body, "contents");
  const parts = contents
    .filter((content) => field(content, "role") === "user")
    .flatMap((content) => list(content, "parts"))
    .map((part) => {
      const response = field(part, "functionResponse");
      return response === undefined ? (text(part, "text") ?? "") : JSON.stringify(field(response, "response") ?? {});
    });
  return { prompt: parts.join("\n"), messages: contents.length };
}

/**
 * gemini's own tools: `write_file` {file_path, content}, `replace` {file_path, instruction, old_string, new_string},
 * `read_file` {file_path}.
 */
function part(turn: ToolTurn | TextTurn): Record<string, unknown> {
  if ("text" in turn) return { text: turn.text };
  if ("write" in turn)
    return { functionCall: { name: "write_file", args: { file_path: turn.write.path, content: turn.write.content } } };
  if ("edit" in turn)
    return {
      functionCall: {
        name: "replace",
        args: {
          file_path: turn.edit.path,
          instruction: "Replace the scripted text.",
          old_string: turn.edit.old,
          new_string: turn.edit.new,
        },
      },
    };
  return { functionCall: { name: "read_file", args: { file_path: turn.read.path } } };
}

/** Google's error body: `{error: {code, message, status}}`. */
export function geminiFailure(status: number, message: string): Answer {
  const name =
    status === 401
      ? "UNAUTHENTICATED"
      : status === 429
        ? "RESOURCE_EXHAUSTED"
        : status === 400
          ? "INVALID_ARGUMENT"
          : status === 404
            ? "NOT_FOUND"
            : "INTERNAL";
  return { kind: "json", status, body: { error: { code: status, message, status: name } } };
}

export function geminiAnswer(turn: ToolTurn | TextTurn, model: string, usage: Usage, stream: boolean): Answer {
  const body = {
    candidates: [{ content: { role: "model", parts: [part(turn)] }, finishReason: "STOP", index: 0 }],
    usageMetadata: {
      promptTokenCount: usage.input,
      candidatesTokenCount: usage.output,
      totalTokenCount: usage.input + usage.output,
    },
    modelVersion: model,
  };
  return stream ? { kind: "sse", events: [sseEvent(body)] } : { kind: "json", status: 200, body };
}

/** `:countTokens`: a rough count of the request's characters, never refused. */
export function geminiTokenCount(raw: string): Answer {
  return { kind: "json", status: 200, body: { totalTokens: Math.ceil(raw.length / 4) } };
}
