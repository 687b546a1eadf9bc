// Feeds a sample transcript through a parser, the way the runner does: stdout line by line, then the end.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parserFor } from "../../../agents/runtime/formats/index.ts";
import type { ParsedEnd } from "../../../agents/runtime/formats/run-report.ts";
import type { ExecutorFormat } from "../../../protocol/index.ts";

export const TRANSCRIPTS = join(import.meta.dirname, "../../../agents/demo-cli/transcripts");

export function transcriptLines(name: string): string[] {
  return readFileSync(join(TRANSCRIPTS, name), "utf8").replace(/\n$/, "").split("\n");
}

export interface Fed extends ParsedEnd {
  /** Every line shown: live ones, then those added at the end. */
  shown: string[];
}

export function feed(format: ExecutorFormat, stdout: readonly string[], stderr: readonly string[] = []): Fed {
  const parser = parserFor(format);
  const shown: string[] = [];
  for (const line of stderr) parser.stderr(line);
  for (const line of stdout) shown.push(...parser.stdout(line));
  const end = parser.end();
  return { ...end, shown: [...shown, ...end.lines] };
}

export function feedTranscript(
  format: ExecutorFormat,
  name: string,
  options: { stderr?: string; dropLast?: number } = {},
): Fed {
  const lines = transcriptLines(name);
  const stdout = options.dropLast === undefined ? lines : lines.slice(0, -options.dropLast);
  return feed(format, stdout, options.stderr === undefined ? [] : transcriptLines(options.stderr));
}

/** True when no shown line is raw JSON. */
export function noRawJson(lines: readonly string[]): boolean {
  return lines.every((line) => !/^\s*[[{]"/.test(line) && !line.includes('{"type"'));
}
