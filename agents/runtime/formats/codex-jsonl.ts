// `codex exec --json …` (docs/cli-formats.md): thread.started, turn.started, item.started/updated/completed,
// then turn.completed (with the thread's cumulative usage) or turn.failed. An interrupted run prints
// neither. The model is never in the output: the runner takes the `-m` of the command.
// Usage streams per turn; one `codex exec` is usually one turn, so its cost is mostly known only at
// its end (docs/costs.md).
import { failure, oneLine, textLines, thought, toolCall, toolResult, warning } from "./display-lines.ts";
import { asObject, count, type JsonObject, list, num, obj, parseJsonObject, str } from "./json-reader.ts";
import type { OutputParser, TokenUsage } from "./run-report.ts";

export function codexJsonl(): OutputParser {
  let threadId: string | undefined;
  let lastMessage: string | undefined;
  let usage: TokenUsage | undefined;
  let completed = false;
  /** The last event was a turn.completed: the run may end here, or start another turn. */
  let atTurnEnd = false;
  let failed: string | undefined;
  let lastError: string | undefined;
  const commandsShown = new Set<string>();

  const item = (event: JsonObject, phase: "started" | "updated" | "completed"): string[] => {
    const entry = obj(event, "item");
    const id = str(entry, "id") ?? "";
    switch (str(entry, "type")) {
      case "command_execution": {
        const lines: string[] = [];
        if (!commandsShown.has(id)) {
          commandsShown.add(id);
          lines.push(`$ ${shellCommand(str(entry, "command") ?? "")}`);
        }
        if (phase !== "completed") return lines;
        const exit = num(entry, "exit_code");
        const status = str(entry, "status");
        const output = str(entry, "aggregated_output") ?? "";
        if (textLines(output).length > 0) lines.push(...toolResult(output));
        if ((exit !== undefined && exit !== 0) || status === "failed" || status === "declined") {
          lines.push(`  (${status === "declined" ? "declined" : `exit ${exit ?? "?"}`})`);
        }
        return lines;
      }
      case "mcp_tool_call": {
        const call = toolCall(`${str(entry, "server") ?? "mcp"}.${str(entry, "tool") ?? "tool"}`, entry?.arguments);
        if (phase === "started") return [call];
        if (phase !== "completed") return [];
        const error = str(obj(entry, "error"), "message");
        const content = list(obj(entry, "result"), "content")
          .map((block) => str(asObject(block), "text") ?? "")
          .join("\n");
        return error !== undefined ? toolResult(error, true) : toolResult(content);
      }
      default:
        return phase === "completed" ? completedItem(entry) : [];
    }
  };

  const completedItem = (entry: JsonObject | undefined): string[] => {
    switch (str(entry, "type")) {
      case "agent_message":
        lastMessage = str(entry, "text") ?? lastMessage;
        return textLines(str(entry, "text") ?? "");
      case "reasoning":
        return thought(str(entry, "text") ?? "");
      case "file_change":
        return list(entry, "changes").map((change) => {
          const kind = str(asObject(change), "kind") ?? "update";
          return `● ${kind.charAt(0).toUpperCase()}${kind.slice(1)}(${str(asObject(change), "path") ?? "?"})`;
        });
      case "web_search":
        return [toolCall("WebSearch", str(entry, "query") ?? "")];
      case "todo_list":
        return list(entry, "items").map(
          (todo) => `  ${asObject(todo)?.completed === true ? "☒" : "☐"} ${oneLine(str(asObject(todo), "text") ?? "")}`,
        );
      case "plan":
        return textLines(str(entry, "text") ?? "");
      case "error":
        // A warning that is not fatal (e.g. "model rerouted").
        return [warning(str(entry, "message") ?? "error")];
      default:
        return [];
    }
  };

  return {
    session: () => threadId,
    stdout(line) {
      const event = parseJsonObject(line);
      if (event === undefined) return line.trim() === "" ? [] : [line];
      const type = str(event, "type");
      // Anything after a turn's end but its failure or an error notice means the CLI went on.
      if (type !== "turn.completed" && type !== "turn.failed" && type !== "error") atTurnEnd = false;
      switch (type) {
        case "thread.started":
          threadId = str(event, "thread_id") ?? threadId;
          return [];
        case "item.started":
        case "item.updated":
        case "item.completed":
          return item(event, type === "item.started" ? "started" : type === "item.updated" ? "updated" : "completed");
        case "turn.completed": {
          completed = true;
          atTurnEnd = true;
          usage = codexUsage(obj(event, "usage"));
          return [];
        }
        case "turn.failed":
          failed = str(obj(event, "error"), "message") ?? lastError ?? "turn failed";
          return [failure(failed)];
        case "error":
          // Also sent for transient retries ("Reconnecting... 2/5") and warnings: not fatal by itself.
          lastError = str(event, "message") ?? lastError;
          return [warning(lastError ?? "error")];
        default:
          return [];
      }
    },
    stderr() {},
    // The thread's running total as of the last turn.completed (each one restates the earlier ones).
    spent: () => ({ usage: usage === undefined ? [] : [{ ...usage }], mayBeLast: atTurnEnd }),
    end() {
      const success = completed && failed === undefined;
      return {
        lines: [],
        report: {
          finished: completed || failed !== undefined,
          success,
          usage: usage === undefined ? [] : [usage],
          result: success ? lastMessage : undefined,
          error: success ? undefined : (failed ?? lastError),
          sessionId: threadId,
        },
      };
    },
  };
}

/** codex's usage record (a turn's, or a rollout's `total_token_usage`) as billed tokens. */
export function codexUsage(reported: JsonObject | undefined): TokenUsage {
  // input_tokens includes cached_input_tokens (OpenAI's convention); output includes reasoning.
  const input = count(reported, "input_tokens");
  const cached = Math.min(input, count(reported, "cached_input_tokens"));
  return {
    input: input - cached,
    cacheRead: cached,
    cacheWrite: 0,
    cacheWrite1h: 0,
    output: count(reported, "output_tokens"),
  };
}

/** `bash -lc 'npm test'` reads as `npm test`. */
function shellCommand(command: string): string {
  const wrapped = /^(?:\/bin\/)?(?:ba|z)?sh -l?c '(.*)'$/s.exec(command);
  return oneLine(wrapped?.[1] ?? command, 400);
}
