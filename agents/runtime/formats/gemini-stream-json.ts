// `gemini -p … --output-format stream-json` (docs/cli-formats.md): init, message (assistant text comes as
// deltas to join), tool_use, tool_result, error (not fatal), and a last `result` with the stats.
// No event before the result carries usage, so the cost is known only at the end: no `spent()`
// (docs/costs.md).
import { failure, textLines, toolCall, toolResult, warning } from "./display-lines.ts";
import { asObject, count, type JsonObject, num, obj, parseJsonObject, str } from "./json-reader.ts";
import type { OutputParser, TokenUsage } from "./run-report.ts";

export function geminiStreamJson(): OutputParser {
  let sessionId: string | undefined;
  let model: string | undefined;
  let result: JsonObject | undefined;
  /** Assistant text since the last tool result: the closing answer. */
  let answer = "";
  let allText = "";
  /** Text of the current line not yet shown (deltas end mid-line). */
  let pending = "";

  const flush = (): string[] => {
    const lines = textLines(pending);
    pending = "";
    return lines;
  };
  const assistantText = (text: string, delta: boolean): string[] => {
    answer += text;
    allText += text;
    pending += text;
    if (!delta) return flush();
    const newline = pending.lastIndexOf("\n");
    if (newline === -1) return [];
    const complete = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    return complete.split("\n").map((line) => line.trimEnd());
  };

  return {
    session: () => sessionId,
    stdout(line) {
      const event = parseJsonObject(line);
      if (event === undefined) return line.trim() === "" ? [] : [...flush(), line];
      switch (str(event, "type")) {
        case "init":
          sessionId = str(event, "session_id") ?? sessionId;
          model = str(event, "model") ?? model;
          return model === undefined ? [] : [`● ${model}${sessionId === undefined ? "" : ` · session ${sessionId}`}`];
        case "message":
          // The user's message is the prompt itself.
          return str(event, "role") === "assistant"
            ? assistantText(str(event, "content") ?? "", event.delta === true)
            : [];
        case "tool_use":
          return [...flush(), toolCall(str(event, "tool_name") ?? "tool", event.parameters)];
        case "tool_result": {
          answer = "";
          const error = obj(event, "error");
          const failed = str(event, "status") === "error";
          return [
            ...flush(),
            ...toolResult(
              failed ? (str(error, "message") ?? str(event, "output") ?? "") : (str(event, "output") ?? ""),
              failed,
            ),
          ];
        }
        case "error":
          // "Loop detected", "Maximum session turns exceeded": reported, but the result line decides.
          return [
            ...flush(),
            str(event, "severity") === "warning"
              ? warning(str(event, "message") ?? "")
              : failure(str(event, "message") ?? ""),
          ];
        case "result": {
          result = event;
          const error = str(obj(event, "error"), "message");
          return [...flush(), ...(str(event, "status") === "success" ? [] : [failure(error ?? "the run failed")])];
        }
        default:
          return [];
      }
    },
    stderr() {},
    end() {
      const lines = flush();
      const success = str(result, "status") === "success";
      const text = (answer.trim() === "" ? allText : answer).trim();
      return {
        lines,
        report: {
          finished: result !== undefined,
          success,
          usage: usageOf(obj(result, "stats")),
          result: success && text !== "" ? text : undefined,
          error: success
            ? undefined
            : (str(obj(result, "error"), "message") ?? (result === undefined ? undefined : "the run failed")),
          sessionId,
          model,
        },
      };
    },
  };
}

/**
 * Stream stats: `input_tokens` is the prompt (cached included), `cached` the cached part, and
 * `output_tokens` leaves out thoughts, which only `total_tokens` holds; so output = total − input_tokens.
 */
function usageOf(stats: JsonObject | undefined): TokenUsage[] {
  if (stats === undefined) return [];
  const models = obj(stats, "models");
  const entries =
    models === undefined ? [] : Object.entries(models).map(([name, value]) => tokensOf(asObject(value), name));
  return entries.length > 0 ? entries : [tokensOf(stats)];
}

function tokensOf(stats: JsonObject | undefined, model?: string): TokenUsage {
  const prompt = count(stats, "input_tokens");
  const cached = Math.min(prompt, count(stats, "cached"));
  const total = num(stats, "total_tokens");
  const output = total === undefined ? count(stats, "output_tokens") : Math.max(0, total - prompt);
  const input = num(stats, "input") === undefined ? prompt - cached : count(stats, "input");
  return {
    ...(model === undefined ? {} : { model }),
    input,
    cacheRead: cached,
    cacheWrite: 0,
    cacheWrite1h: 0,
    output,
  };
}
