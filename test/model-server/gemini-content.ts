// Gemini (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse`, `:generateContent`,
// `:countTokens`), what gemini calls with GOOGLE_GEMINI_BASE_URL: each chunk a candidate with parts
// and the usage metadata.
import { field, list } from "./json-reading.ts";
import { sseEvent, type Answer } from "./model-answer.ts";
import type { Turn, Usage } from "./scripted-turns.ts";

/** Tool results the conversation carries back: `functionResponse` parts in the contents. */
export function geminiToolResults(body: unknown): number {
  return list(body, "contents").flatMap((content) => list(content, "parts")).filter((part) => field(part, "functionResponse") !== undefined).length;
}

export function geminiOffersTools(body: unknown): boolean {
  return list(body, "tools").some((tool) => list(tool, "functionDeclarations").length > 0);
}

/** gemini's own write tool: `write_file` with `file_path` and `content`. */
function part(turn: Turn): Record<string, unknown> {
  if ("text" in turn) return { text: turn.text };
  return { functionCall: { name: "write_file", args: { file_path: turn.write.path, content: turn.write.content } } };
}

export function geminiAnswer(turn: Turn, model: string, usage: Usage, stream: boolean): Answer {
  const body = {
    candidates: [{ content: { role: "model", parts: [part(turn)] }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: usage.input, candidatesTokenCount: usage.output, totalTokenCount: usage.input + usage.output },
    modelVersion: model,
  };
  return stream ? { kind: "sse", events: [sseEvent(body)] } : { kind: "json", status: 200, body };
}

/** `:countTokens`: a rough count of the request's characters, never refused. */
export function geminiTokenCount(raw: string): Answer {
  return { kind: "json", status: 200, body: { totalTokens: Math.ceil(raw.length / 4) } };
}
