// `opencode run --format json …` (docs/cli-formats.md): step_start, text, reasoning, tool_use (when a
// tool finishes), step_finish (tokens and cost of the step), error, and in newer versions `done`.
// Older versions simply exit, so a last step that finished with reason "stop" also ends the run.
// The model is never in the output: the runner takes the `-m` of the command.
import { failure, textLines, thought, toolCall, toolResult } from "./display-lines.ts";
import { count, type JsonObject, num, obj, parseJsonObject, str } from "./json-reader.ts";
import { emptyUsage, type OutputParser } from "./run-report.ts";

export function opencodeJson(): OutputParser {
  let sessionId: string | undefined;
  let lastText: string | undefined;
  let lastReason: string | undefined;
  let done = false;
  let error: { message: string; status?: number } | undefined;
  let cost: number | undefined;
  let steps = 0;
  /** The last step finished with a reason other than tool calls: the run may end here unless a step starts. */
  let atLastStep = false;
  const usage = emptyUsage();

  const stepFinished = (part: JsonObject | undefined): void => {
    steps++;
    lastReason = str(part, "reason") ?? lastReason;
    atLastStep = lastReason !== "tool-calls";
    const tokens = obj(part, "tokens");
    const cache = obj(tokens, "cache");
    // `input` excludes cache reads; reasoning is billed as output.
    usage.input += count(tokens, "input");
    usage.cacheRead += count(cache, "read");
    usage.cacheWrite += count(cache, "write");
    usage.output += count(tokens, "output") + count(tokens, "reasoning");
    const stepCost = num(part, "cost");
    if (stepCost !== undefined) cost = (cost ?? 0) + stepCost;
  };

  return {
    stdout(line) {
      const event = parseJsonObject(line);
      // "!" warnings and other plain text can leak into stdout.
      if (event === undefined) return line.trim() === "" ? [] : [line];
      sessionId ??= str(event, "sessionID");
      const part = obj(event, "part");
      switch (str(event, "type")) {
        case "step_start":
          // A new step is a new model call.
          atLastStep = false;
          return [];
        case "text":
          lastText = str(part, "text") ?? lastText;
          return textLines(str(part, "text") ?? "");
        case "reasoning":
          return thought(str(part, "text") ?? "");
        case "tool_use": {
          const state = obj(part, "state");
          const tool = str(part, "tool") ?? "tool";
          const call = toolCall(tool.charAt(0).toUpperCase() + tool.slice(1), str(state, "title") ?? state?.input);
          if (str(state, "status") === "error") return [call, ...toolResult(str(state, "error") ?? "", true)];
          const output = str(state, "output") ?? "";
          return textLines(output).length > 0 ? [call, ...toolResult(output)] : [call];
        }
        case "step_finish":
          stepFinished(part);
          return [];
        case "error": {
          const detail = obj(event, "error");
          const data = obj(detail, "data");
          error = {
            message: `${str(detail, "name") ?? "Error"}: ${str(data, "message") ?? "unknown error"}`,
            status: num(data, "statusCode"),
          };
          return [failure(error.message)];
        }
        case "done":
          done = true;
          return [];
        default:
          return [];
      }
    },
    stderr() {},
    // step_finish events carry each step's tokens and cost as the run goes.
    session: () => sessionId,
    spent: () => ({
      usage: steps > 0 ? [{ ...usage }] : [],
      ...(cost === undefined ? {} : { costUsd: cost }),
      mayBeLast: atLastStep,
    }),
    end() {
      const success = error === undefined && lastReason === "stop";
      const finished = done || error !== undefined || (lastReason !== undefined && lastReason !== "tool-calls");
      const failedWhy =
        error?.message ??
        (finished && lastReason !== undefined ? `the last step ended with reason '${lastReason}'` : undefined);
      return {
        lines: [],
        report: {
          finished,
          success,
          usage: steps > 0 ? [usage] : [],
          result: success ? lastText : undefined,
          error: success ? undefined : failedWhy,
          sessionId,
          costUsd: cost,
          errorStatus: error?.status,
        },
      };
    },
  };
}
