// `claude -p … --output-format json` (docs/cli-formats.md): one line holding only the `result` object, or,
// with `--verbose` in some versions, one JSON array of every message. Nothing to show until it ends.
import { ClaudeTranscript } from "./claude-transcript.ts";
import { asObject, parseJson } from "./json-reader.ts";
import type { OutputParser } from "./run-report.ts";

export function claudeJson(): OutputParser {
  const stdout: string[] = [];
  return {
    stdout(line) {
      stdout.push(line);
      return [];
    },
    stderr() {},
    end() {
      const transcript = new ClaudeTranscript();
      const document = parseJson(stdout.join("\n"));
      const messages = Array.isArray(document) ? document : document === undefined ? jsonLines(stdout) : [document];
      const lines: string[] = [];
      for (const message of messages) {
        const event = asObject(message);
        if (event !== undefined) lines.push(...transcript.handle(event));
      }
      const report = transcript.report();
      if (messages.length === 0) {
        // Not JSON at all: a plain error message, shown as it came.
        const text = stdout.filter((line) => line.trim() !== "");
        lines.push(...text);
        if (text.length > 0) report.error ??= text.join("\n");
      }
      return { lines, report };
    },
  };
}

/** Objects of a JSONL text (a CLI that wrote one object per line although json was asked for). */
function jsonLines(lines: readonly string[]): unknown[] {
  return lines.map((line) => parseJson(line)).filter((value) => asObject(value) !== undefined);
}
