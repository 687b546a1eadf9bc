// `claude -p … --output-format stream-json --verbose` (docs/cli-formats.md): one message per line, the
// `result` line last. A run without its result line was cut short (crash, kill, truncation).
import { LineTail } from "../line-tail.ts";
import { ClaudeTranscript } from "./claude-transcript.ts";
import { parseJsonObject } from "./json-reader.ts";
import type { OutputParser } from "./run-report.ts";

export function claudeStreamJson(): OutputParser {
  const transcript = new ClaudeTranscript();
  // Lines that are not JSON (hook output, a plain error such as "Invalid API key · …") are shown as
  // they are and kept: when no result comes, they are the best account of what went wrong.
  const stray = new LineTail(20);
  return {
    stdout(line) {
      const event = parseJsonObject(line);
      if (event !== undefined) return transcript.handle(event);
      if (line.trim() === "") return [];
      stray.push(line);
      return [line];
    },
    stderr() {},
    spent: () => transcript.spent(),
    session: () => transcript.session(),
    end() {
      const report = transcript.report();
      if (report.error === undefined && !report.success && stray.size > 0) report.error = stray.text();
      return { lines: [], report };
    },
  };
}
