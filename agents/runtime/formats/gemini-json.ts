// `gemini -p … --output-format json` (docs/cli-formats.md): one pretty-printed document at the end,
// `{session_id, response, stats, error}`. On a fatal error stdout stays empty and the same shape,
// `{session_id, error: {type, message, code}}`, goes to stderr (§3.6). Nothing to show until it ends.
import { failure, textLines } from "./display-lines.ts";
import { asObject, count, type JsonObject, num, obj, parseJson, str } from "./json-reader.ts";
import type { OutputParser, TokenUsage } from "./run-report.ts";

export function geminiJson(): OutputParser {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout(line) {
      stdout.push(line);
      return [];
    },
    stderr(line) {
      stderr.push(line);
    },
    end() {
      const document = documentIn(stdout);
      const errorDocument = documentIn(stderr);
      const error = obj(document, "error") ?? obj(errorDocument, "error");
      const response = str(document, "response");
      const finished = document !== undefined || error !== undefined;
      const success = document !== undefined && error === undefined;
      const stats = obj(document, "stats");
      const lines: string[] = [];
      if (!finished) lines.push(...stdout.filter((line) => line.trim() !== ""));
      if (response !== undefined) lines.push(...textLines(response));
      if (error !== undefined) lines.push(failure(str(error, "message") ?? "error"));
      const code = num(error, "code");
      return {
        lines,
        report: {
          finished,
          success,
          usage: usageOf(stats),
          result: success ? response : undefined,
          error: error === undefined ? undefined : (str(error, "message") ?? str(error, "type") ?? "error"),
          sessionId: str(document, "session_id") ?? str(errorDocument, "session_id"),
          model: mainModel(stats),
          // A code of 400 or more is an HTTP status (the API's), below that the CLI's own exit code.
          ...(code === undefined ? {} : code >= 400 ? { errorStatus: code } : { errorCode: code }),
        },
      };
    },
  };
}

/** The JSON object in some lines: all of them, or from the first `{` to the last `}` (warnings around it). */
function documentIn(lines: readonly string[]): JsonObject | undefined {
  const text = lines.join("\n");
  const whole = asObject(parseJson(text));
  if (whole !== undefined) return whole;
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  return start === -1 || end <= start ? undefined : asObject(parseJson(text.slice(start, end + 1)));
}

/** Σ over `stats.models[*].tokens`: uncached input = `input`, cached, output = candidates + thoughts. */
function usageOf(stats: JsonObject | undefined): TokenUsage[] {
  const models = obj(stats, "models");
  if (models === undefined) return [];
  return Object.entries(models).map(([model, entry]) => {
    const tokens = obj(asObject(entry), "tokens");
    const prompt = count(tokens, "prompt");
    const cached = count(tokens, "cached");
    const input = num(tokens, "input") === undefined ? Math.max(0, prompt - cached) : count(tokens, "input");
    return {
      model,
      input,
      cacheRead: cached,
      cacheWrite: 0,
      cacheWrite1h: 0,
      output: count(tokens, "candidates") + count(tokens, "thoughts"),
    };
  });
}

/** The model with the `main` role; else the one that spent the most tokens. */
function mainModel(stats: JsonObject | undefined): string | undefined {
  const models = Object.entries(obj(stats, "models") ?? {});
  const main = models.find(([, entry]) => obj(obj(asObject(entry), "roles"), "main") !== undefined);
  if (main !== undefined) return main[0];
  const total = (entry: unknown): number => count(obj(asObject(entry), "tokens"), "total");
  return models.sort((a, b) => total(b[1]) - total(a[1]))[0]?.[0];
}
