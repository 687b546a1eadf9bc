// How a CLI's events read in the live log: the style of Claude Code's own terminal output, so a
// person watching a task sees what the model says and does, not JSON.
//   assistant text      → the text
//   a tool call         → ● Bash(npm test)
//   its result          →   └ first lines of the result, then "… +N lines"
//   thinking/reasoning  → ✻ its first line
//   a failure           → ✗ the message          a warning → ! the message
import { asObject } from "./json-reader.ts";

/** How many lines of a tool's result are shown. */
const RESULT_LINES = 4;
/** How long a one-line summary (a tool's argument, a thought) may be. */
const SUMMARY_CHARS = 120;
/** The argument fields that say best what a tool call does, in order of preference. */
const SUMMARY_KEYS = ["command", "file_path", "filePath", "path", "pattern", "query", "url", "description", "prompt"];

/** A text as lines: trailing spaces and blank lines at both ends dropped. */
export function textLines(text: string): string[] {
  const lines = text.split("\n").map((line) => line.trimEnd());
  while (lines.length > 0 && lines[0] === "") lines.shift();
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}

/** A text squeezed into one line of at most `max` characters. */
export function oneLine(text: string, max = SUMMARY_CHARS): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `● Name(what it works on)`. */
export function toolCall(name: string, input: unknown): string {
  const summary = summarize(input);
  return summary === "" ? `● ${name}` : `● ${name}(${summary})`;
}

/** The most telling argument of a tool call, on one line. */
export function summarize(input: unknown): string {
  if (typeof input === "string") return oneLine(input);
  const fields = asObject(input);
  if (fields === undefined) return "";
  for (const key of SUMMARY_KEYS) {
    const value = fields[key];
    if (typeof value === "string" && value.trim() !== "") return oneLine(value);
  }
  const first = Object.values(fields).find(
    (value): value is string => typeof value === "string" && value.trim() !== "",
  );
  return first === undefined ? "" : oneLine(first);
}

/** A tool's result, indented under its call: its first lines, then how many more there were. */
export function toolResult(text: string, failed = false): string[] {
  // Blank lines would waste the few lines shown.
  const lines = textLines(text).filter((line) => line.trim() !== "");
  if (lines.length === 0) return [failed ? "  └ ✗ (failed, no output)" : "  └ (no output)"];
  const shown = lines
    .slice(0, RESULT_LINES)
    .map((line, i) => `${i === 0 ? "  └ " : "    "}${i === 0 && failed ? "✗ " : ""}${line}`.trimEnd());
  const more = lines.length - RESULT_LINES;
  if (more > 0) shown.push(`    … +${more} ${more === 1 ? "line" : "lines"}`);
  return shown;
}

/** `✻ the first line of a thought`, markdown bold markers dropped. */
export function thought(text: string): string[] {
  const first = textLines(text.replace(/\*\*/g, ""))[0];
  return first === undefined ? [] : [`✻ ${oneLine(first)}`];
}

export function failure(message: string): string {
  return `✗ ${oneLine(message, 2000)}`;
}

export function warning(message: string): string {
  return `! ${oneLine(message, 2000)}`;
}
