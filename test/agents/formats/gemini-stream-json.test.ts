import { describe, expect, it } from "vitest";
import { RateTable } from "../../../agents/runtime/cost-rates.ts";
import { feed, feedTranscript, noRawJson } from "./feed.ts";

describe("gemini-stream-json", () => {
  it("reads the success sample: joined answer, session, model, output = total − input_tokens", () => {
    const { report } = feedTranscript("gemini-stream-json", "gemini-stream-success.jsonl");
    expect(report).toMatchObject({
      finished: true,
      success: true,
      sessionId: "6f0d2c71-8a4e-4b9b-9c1e-2d7f5a3b8e10",
      model: "gemini-2.5-flash",
    });
    expect(report.result).toBe(
      "Fixed the failing test: `add()` in `src/math.js` subtracted its arguments. I changed `return a - b;` to `return a + b;` and `npm test` now passes (1/1).",
    );
    expect(report.usage).toEqual([
      {
        model: "gemini-2.5-flash",
        input: 9871,
        cacheRead: 14444,
        cacheWrite: 0,
        cacheWrite1h: 0,
        output: 25203 - 24315,
      },
    ]);
    expect(new RateTable().costOf(report.usage, report.model, "gemini")).toBeCloseTo(
      (9871 * 0.3 + 14444 * 0.03 + 888 * 2.5) / 1e6,
      12,
    );
  });

  it("shows tool calls, their results and the answer joined from its deltas", () => {
    const { shown } = feedTranscript("gemini-stream-json", "gemini-stream-success.jsonl");
    expect(shown).toEqual([
      "● gemini-2.5-flash · session 6f0d2c71-8a4e-4b9b-9c1e-2d7f5a3b8e10",
      "● run_shell_command(npm test)",
      "  └ Command: npm test",
      "    Directory: (root)",
      "    Output: not ok 1 - add() adds two numbers",
      "    # pass 0",
      "    … +3 lines",
      "● replace(/home/dev/proj/src/math.js)",
      "  └ Successfully modified file: /home/dev/proj/src/math.js (1 replacements).",
      "Fixed the failing test: `add()` in `src/math.js` subtracted its arguments. I changed `return a - b;` to `return a + b;` and `npm test` now passes (1/1).",
    ]);
    expect(noRawJson(shown)).toBe(true);
  });

  it("reads a result with status error as a finished failure", () => {
    const { report, shown } = feed("gemini-stream-json", [
      '{"type":"init","session_id":"g1","model":"gemini-2.5-pro"}',
      '{"type":"result","status":"error","error":{"type":"Error","message":"[API Error: API key not valid. Please pass a valid API key.]"},"stats":{"total_tokens":0,"input_tokens":0,"output_tokens":0}}',
    ]);
    expect(report).toMatchObject({
      finished: true,
      success: false,
      error: "[API Error: API key not valid. Please pass a valid API key.]",
    });
    expect(shown.at(-1)).toBe("✗ [API Error: API key not valid. Please pass a valid API key.]");
  });

  it("treats a run cut before its result as not finished, and still shows the text it had", () => {
    const { report, shown } = feedTranscript("gemini-stream-json", "gemini-stream-success.jsonl", { dropLast: 1 });
    expect(report).toMatchObject({ finished: false, success: false, usage: [] });
    expect(shown.at(-1)).toMatch(/now passes \(1\/1\)\.$/);
  });
});
