// The output formats (docs/cli-formats.md): each executor names one, and its parser turns the CLI's stdout
// into readable lines and a report (tokens, cost, model, session, success).
import type { ExecutorFormat } from "../../../protocol/index.ts";
import { claudeJson } from "./claude-json.ts";
import { claudeStreamJson } from "./claude-stream-json.ts";
import { codexJsonl } from "./codex-jsonl.ts";
import { geminiJson } from "./gemini-json.ts";
import { geminiStreamJson } from "./gemini-stream-json.ts";
import { opencodeJson } from "./opencode-json.ts";
import type { OutputParser } from "./run-report.ts";
import { plainText } from "./text.ts";

export const outputParsers: Record<ExecutorFormat, () => OutputParser> = {
  "claude-stream-json": claudeStreamJson,
  "claude-json": claudeJson,
  "codex-jsonl": codexJsonl,
  "gemini-json": geminiJson,
  "gemini-stream-json": geminiStreamJson,
  "opencode-json": opencodeJson,
  text: plainText,
};

/** A fresh parser for one run's output. */
export function parserFor(format: ExecutorFormat): OutputParser {
  return outputParsers[format]();
}

export type { OutputParser, ParsedEnd, RunReport, SpendSoFar, TokenUsage } from "./run-report.ts";
export { totalInput } from "./run-report.ts";
