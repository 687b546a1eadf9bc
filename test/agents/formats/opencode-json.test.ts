import { describe, expect, it } from "vitest";
import { RateTable } from "../../../agents/runtime/cost-rates.ts";
import { totalInput } from "../../../agents/runtime/formats/run-report.ts";
import { feed, feedTranscript, noRawJson } from "./feed.ts";

describe("opencode-json", () => {
  it("reads the DeepSeek success sample: last text, session, tokens and cost summed over steps", () => {
    const { report } = feedTranscript("opencode-json", "opencode-deepseek-success.jsonl");
    expect(report).toMatchObject({ finished: true, success: true, sessionId: "ses_52a9c3e1dffeK7mQx2VbN8rTzP" });
    expect(report.result).toMatch(/^Fixed `add\(\)` in `src\/math.js`/);
    expect(report.usage).toEqual([
      {
        input: 3120 + 412 + 233,
        cacheRead: 9984 + 13056 + 13440,
        cacheWrite: 0,
        cacheWrite1h: 0,
        output: 41 + 188 + 57,
      },
    ]);
    expect(report.usage.map(totalInput)).toEqual([40245]);
    expect(report.costUsd).toBeCloseTo(0.0004762352 + 0.0001468768 + 0.000086212, 12);
  });

  it("prices the same tokens at deepseek-v4-flash's rates close to what opencode reported", () => {
    const { report } = feedTranscript("opencode-json", "opencode-deepseek-success.jsonl");
    const computed = new RateTable().costOf(report.usage, "deepseek/deepseek-v4-flash", "opencode");
    expect(computed).toBeCloseTo((3765 * 0.14 + 36480 * 0.0028 + 286 * 0.28) / 1e6, 12);
  });

  it("shows tool calls with their output and the answer", () => {
    const { shown } = feedTranscript("opencode-json", "opencode-deepseek-success.jsonl");
    expect(shown).toEqual([
      "● Bash(npm test)",
      "  └ > proj@1.0.0 test",
      "    > node --test",
      "    not ok 1 - add() adds two numbers",
      "    # pass 0",
      "    … +1 line",
      "● Edit(src/math.js)",
      "  └ Edit applied successfully.",
      "Fixed `add()` in `src/math.js`: it returned `a - b` instead of `a + b`. The failing test in `test/math.test.js` now passes.",
    ]);
    expect(noRawJson(shown)).toBe(true);
  });

  it("ends an older version's run (no done event) at a last step with reason stop", () => {
    const { report } = feedTranscript("opencode-json", "opencode-deepseek-success.jsonl", { dropLast: 1 });
    expect(report).toMatchObject({ finished: true, success: true });
  });

  it("treats a run that stopped after a tool step as not finished", () => {
    const { report } = feedTranscript("opencode-json", "opencode-deepseek-success.jsonl", { dropLast: 4 });
    expect(report).toMatchObject({ finished: false, success: false });
  });

  it("reads an error event as a finished failure with its status", () => {
    const { report, shown } = feed("opencode-json", [
      '{"type":"error","timestamp":1,"sessionID":"ses_1","error":{"name":"APIError","data":{"message":"Authentication Fails, Your api key: ****abcd is invalid","statusCode":401}}}',
    ]);
    expect(report).toMatchObject({
      finished: true,
      success: false,
      errorStatus: 401,
      error: "APIError: Authentication Fails, Your api key: ****abcd is invalid",
      sessionId: "ses_1",
    });
    expect(shown).toEqual(["✗ APIError: Authentication Fails, Your api key: ****abcd is invalid"]);
  });
});
