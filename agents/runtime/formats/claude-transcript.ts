// Claude Code's messages (docs/cli-formats.md): the same objects come one per line with
// `--output-format stream-json --verbose`, alone (the result) with `json`, or as one array with
// `json --verbose`. This reads them into display lines and a report, whichever way they came.
import { failure, oneLine, textLines, thought, toolCall, toolResult } from "./display-lines.ts";
import { asObject, bool, count, type JsonObject, list, num, obj, str, strings } from "./json-reader.ts";
import type { RunReport, SpendSoFar, TokenUsage } from "./run-report.ts";

/** The model an API failure is reported under: not a model that ran. */
const SYNTHETIC_MODEL = "<synthetic>";

export class ClaudeTranscript {
  private sessionId: string | undefined;
  private initModel: string | undefined;
  private assistantModel: string | undefined;
  private assistantError: string | undefined;
  private result: JsonObject | undefined;
  private shownText = false;
  /** Each assistant message's usage, by message id: stream-json repeats a message once per content block. */
  private readonly messageUsage = new Map<string, TokenUsage[]>();

  /** One message: the lines to show for it. */
  handle(event: JsonObject): string[] {
    this.sessionId ??= str(event, "session_id");
    switch (str(event, "type")) {
      case "system":
        return this.system(event);
      case "assistant":
        return this.assistant(event);
      case "user":
        return this.toolResults(event);
      case "result":
        this.result = event;
        return this.resultLines(event);
      default:
        // stream_event (token deltas), rate_limit_event and newer kinds carry nothing to show.
        return [];
    }
  }

  /** The session id, once a message named it. */
  session(): string | undefined {
    return this.sessionId;
  }

  /**
   * The run's spend as it streamed: the sum of its messages' usage, each message once (the last copy
   * holds its fullest output count). An assistant message is never the last event (the result follows),
   * so a cap passed here is passed mid-run. The result's totals are the end's, not in this.
   */
  spent(): SpendSoFar {
    return { usage: [...this.messageUsage.values()].flat() };
  }

  report(): RunReport {
    const result = this.result;
    const model = this.initModel ?? this.assistantModel;
    if (result === undefined) {
      return {
        finished: false,
        success: false,
        usage: [],
        sessionId: this.sessionId,
        model,
        error: this.assistantError,
      };
    }
    const subtype = str(result, "subtype");
    // `is_error` is the only reliable flag: a failed API call comes as subtype "success" with is_error true.
    const isError = bool(result, "is_error") ?? subtype !== "success";
    const text = str(result, "result");
    const errorText = [text, strings(result, "errors").join("\n"), this.assistantError, subtype].find(
      (candidate) => candidate !== undefined && candidate !== "",
    );
    return {
      finished: true,
      success: !isError,
      usage: usageOf(obj(result, "usage")),
      result: isError ? undefined : text,
      error: isError ? errorText : undefined,
      sessionId: str(result, "session_id") ?? this.sessionId,
      model: model ?? firstKey(obj(result, "modelUsage")),
      costUsd: num(result, "total_cost_usd") ?? modelUsageCost(obj(result, "modelUsage")),
      errorStatus: num(result, "api_error_status"),
      ...(isError && subtype !== undefined ? { errorKind: subtype } : {}),
    };
  }

  private system(event: JsonObject): string[] {
    if (str(event, "subtype") !== "init") return [];
    this.initModel = str(event, "model") ?? this.initModel;
    const parts = [this.initModel, this.sessionId === undefined ? undefined : `session ${this.sessionId}`].filter(
      (part) => part !== undefined,
    );
    return parts.length === 0 ? [] : [`● ${parts.join(" · ")}`];
  }

  private assistant(event: JsonObject): string[] {
    const message = obj(event, "message");
    const model = str(message, "model");
    if (model !== undefined && model !== SYNTHETIC_MODEL) this.assistantModel = model;
    const id = str(message, "id");
    const usage = obj(message, "usage");
    if (id !== undefined && usage !== undefined)
      this.messageUsage.set(
        id,
        usageOf(usage).map((u) => (model === undefined ? u : { ...u, model })),
      );
    const lines: string[] = [];
    const error = str(event, "error");
    if (error !== undefined) this.assistantError = error;
    for (const item of list(message, "content")) {
      const block = asObject(item);
      const type = str(block, "type");
      if (type === "text") {
        const text = textLines(str(block, "text") ?? "");
        if (text.length > 0) this.shownText = true;
        lines.push(...(error === undefined ? text : text.map((line) => failure(line))));
      } else if (type === "thinking") {
        lines.push(...thought(str(block, "thinking") ?? ""));
      } else if (type === "tool_use") {
        lines.push(toolCall(str(block, "name") ?? "tool", block?.input));
      }
    }
    if (error !== undefined && lines.length === 0) lines.push(failure(`API error: ${error}`));
    return lines;
  }

  private toolResults(event: JsonObject): string[] {
    const lines: string[] = [];
    for (const item of list(obj(event, "message"), "content")) {
      const block = asObject(item);
      if (str(block, "type") !== "tool_result") continue;
      lines.push(...toolResult(contentText(block?.content), bool(block, "is_error") === true));
    }
    return lines;
  }

  private resultLines(event: JsonObject): string[] {
    const report = this.report();
    // claude 2.1.197 ends a failed login with subtype "success" and is_error true: that is an error, not a success.
    const subtype = str(event, "subtype");
    if (!report.success)
      return [
        failure(
          `${subtype === undefined || subtype === "success" ? "error" : subtype}: ${oneLine(report.error ?? "no message", 2000)}`,
        ),
      ];
    // With `--output-format json` the answer is only in the result: show it once.
    if (!this.shownText && report.result !== undefined) return textLines(report.result);
    return [];
  }
}

/** A result's `usage`, cumulative for the run; Anthropic's `input_tokens` excludes the cached ones. */
function usageOf(usage: JsonObject | undefined): TokenUsage[] {
  if (usage === undefined) return [];
  const written = count(usage, "cache_creation_input_tokens");
  const written1h = Math.min(written, count(obj(usage, "cache_creation"), "ephemeral_1h_input_tokens"));
  return [
    {
      input: count(usage, "input_tokens"),
      cacheRead: count(usage, "cache_read_input_tokens"),
      cacheWrite: written - written1h,
      cacheWrite1h: written1h,
      output: count(usage, "output_tokens"),
    },
  ];
}

function modelUsageCost(modelUsage: JsonObject | undefined): number | undefined {
  if (modelUsage === undefined) return undefined;
  const costs = Object.values(modelUsage).map((entry) => num(asObject(entry), "costUSD"));
  return costs.some((cost) => cost !== undefined)
    ? costs.reduce<number>((sum, cost) => sum + (cost ?? 0), 0)
    : undefined;
}

function firstKey(from: JsonObject | undefined): string | undefined {
  return from === undefined ? undefined : Object.keys(from)[0];
}

/** A tool result's content: a string, or text blocks. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((block) => str(asObject(block), "text") ?? "").join("\n");
}
