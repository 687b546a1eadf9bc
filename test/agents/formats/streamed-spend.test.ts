// What each format's parser says a run has spent while it runs (docs/costs.md), read line by line from
// the sample transcripts: claude per message (each once), codex per turn, opencode per step; gemini and
// the one-document formats only at the end.
import { describe, expect, it } from "vitest";
import { parserFor } from "../../../agents/runtime/formats/index.ts";
import type { OutputParser, SpendSoFar } from "../../../agents/runtime/formats/run-report.ts";
import { transcriptLines } from "./feed.ts";

/** The parser's spend after each line of a transcript, in order. */
function spendAfterEachLine(parser: OutputParser, lines: readonly string[]): Array<SpendSoFar | undefined> {
  return lines.map((line) => {
    parser.stdout(line);
    return parser.spent?.();
  });
}

const typeOf = (line: string): string => (JSON.parse(line) as { type: string }).type;

describe("streamed spend", () => {
  it("claude-stream-json: the sum of each assistant message's usage, a repeated message counted once, the result's totals left to the end", () => {
    const lines = transcriptLines("claude-success.jsonl");
    const parser = parserFor("claude-stream-json");
    const spends = spendAfterEachLine(parser, lines);
    // The first message comes as two lines (one per content block) with the same id and usage.
    expect(spends[1]?.usage).toEqual([
      { model: "claude-sonnet-4-5-20250929", input: 4, cacheRead: 0, cacheWrite: 17890, cacheWrite1h: 0, output: 2 },
    ]);
    expect(spends[2]?.usage).toEqual(spends[1]?.usage);
    const last = spends.at(-1);
    const sum = (key: "input" | "cacheRead" | "cacheWrite" | "output"): number =>
      (last?.usage ?? []).reduce((total, u) => total + u[key], 0);
    // Three messages: input 4+6+5, cache writes 17890+385+240, reads 0+17890+18275, output 2+26+61
    // (claude streams a message's output count as a placeholder; the result says 337).
    expect([sum("input"), sum("cacheWrite"), sum("cacheRead"), sum("output")]).toEqual([15, 18515, 36165, 89]);
    expect(last?.costUsd).toBeUndefined();
    // An assistant message is never the last event: a cap passed there is passed mid-run.
    expect(spends.some((spend) => spend?.mayBeLast === true)).toBe(false);
    // The end still reports the result's totals and cost.
    expect(parser.end().report).toMatchObject({
      costUsd: 0.08538075,
      usage: [{ input: 15, cacheWrite: 18515, cacheRead: 36165, output: 337 }],
    });
  });

  it("codex-jsonl: nothing until a turn completes, then the thread's running total, marked as possibly the run's last", () => {
    const lines = transcriptLines("codex-success.jsonl");
    const spends = spendAfterEachLine(parserFor("codex-jsonl"), lines);
    expect(spends.slice(0, -1).every((spend) => spend?.usage.length === 0)).toBe(true);
    expect(spends.at(-1)).toEqual({
      usage: [{ input: 48213 - 41984, cacheRead: 41984, cacheWrite: 0, cacheWrite1h: 0, output: 1287 }],
      mayBeLast: true,
    });
  });

  it("codex-jsonl: a second turn replaces the first turn's total (each restates the thread's) and is no longer possibly the last", () => {
    const parser = parserFor("codex-jsonl");
    const turn = (input: number, output: number): string =>
      JSON.stringify({
        type: "turn.completed",
        usage: { input_tokens: input, cached_input_tokens: 0, output_tokens: output },
      });
    parser.stdout(turn(1000, 100));
    parser.stdout('{"type":"turn.started"}');
    expect(parser.spent?.()).toEqual({
      usage: [{ input: 1000, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, output: 100 }],
      mayBeLast: false,
    });
    parser.stdout(turn(2500, 300));
    expect(parser.spent?.()).toEqual({
      usage: [{ input: 2500, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, output: 300 }],
      mayBeLast: true,
    });
    // A warning after the turn is not the CLI going on.
    parser.stdout('{"type":"error","message":"Reconnecting... 1/5"}');
    expect(parser.spent?.().mayBeLast).toBe(true);
  });

  it("opencode-json: each step's cost as it finishes; a step that ended other than for tool calls may be the last until another starts", () => {
    const lines = transcriptLines("opencode-deepseek-success.jsonl");
    const spends = spendAfterEachLine(parserFor("opencode-json"), lines);
    const finishes = lines
      .map((line, index) => (typeOf(line) === "step_finish" ? index : -1))
      .filter((index) => index >= 0);
    expect(finishes.map((index) => spends[index]?.costUsd)).toEqual(
      [0.0004762352, 0.0004762352 + 0.0001468768, 0.0004762352 + 0.0001468768 + 8.6212e-5].map((cost) =>
        expect.closeTo(cost, 12),
      ),
    );
    expect(finishes.map((index) => spends[index]?.mayBeLast)).toEqual([false, false, true]);
    expect(spends.at(-1)?.usage).toEqual([
      {
        input: 3120 + 412 + 233,
        cacheRead: 9984 + 13056 + 13440,
        cacheWrite: 0,
        cacheWrite1h: 0,
        output: 41 + 188 + 57,
      },
    ]);
    // A step that starts after the "last" one: the CLI went on.
    const parser = parserFor("opencode-json");
    for (const line of lines) parser.stdout(line);
    parser.stdout(lines[0] ?? "");
    expect(parser.spent?.().mayBeLast).toBe(false);
  });

  it("gemini-stream-json, gemini-json and claude-json report usage only at their end: no streamed spend", () => {
    expect(parserFor("gemini-stream-json").spent).toBeUndefined();
    expect(parserFor("gemini-json").spent).toBeUndefined();
    expect(parserFor("claude-json").spent).toBeUndefined();
    // gemini stream-json: no event before the result carries usage; the result's stats are the end's.
    const lines = transcriptLines("gemini-stream-success.jsonl");
    expect(lines.filter((line) => line.includes('"stats"')).map(typeOf)).toEqual(["result"]);
    const parser = parserFor("gemini-stream-json");
    for (const line of lines) parser.stdout(line);
    expect(parser.end().report.usage).toEqual([
      {
        model: "gemini-2.5-flash",
        input: 9871,
        cacheRead: 14444,
        cacheWrite: 0,
        cacheWrite1h: 0,
        output: 25203 - 24315,
      },
    ]);
  });
});
