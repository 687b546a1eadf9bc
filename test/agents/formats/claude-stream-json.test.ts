import { describe, expect, it } from "vitest";
import { RateTable } from "../../../agents/runtime/cost-rates.ts";
import { totalInput } from "../../../agents/runtime/formats/run-report.ts";
import { feed, feedTranscript, noRawJson } from "./feed.ts";

describe("claude-stream-json", () => {
  it("reads the success sample: result, session, model, tokens with cache, and the reported cost", () => {
    const { report } = feedTranscript("claude-stream-json", "claude-success.jsonl");
    expect(report).toMatchObject({
      finished: true,
      success: true,
      sessionId: "3f6c2a9e-81d4-4c2b-9a57-0e4b7d1c5f23",
      model: "claude-sonnet-4-5-20250929",
      costUsd: 0.08538075,
    });
    expect(report.result).toContain("Fixed the bug");
    expect(report.usage).toEqual([{ input: 15, cacheRead: 36165, cacheWrite: 18515, cacheWrite1h: 0, output: 337 }]);
    expect(report.usage.map(totalInput)).toEqual([15 + 18515 + 36165]);
  });

  it("recomputes the sample's cost from its tokens at Sonnet's rates (the sample's own total)", () => {
    const { report } = feedTranscript("claude-stream-json", "claude-success.jsonl");
    expect(new RateTable().costOf(report.usage, report.model, "claude")).toBe(0.08538075);
  });

  it("shows readable lines: text, tool calls, indented results; never JSON", () => {
    const { shown } = feedTranscript("claude-stream-json", "claude-success.jsonl");
    expect(shown).toEqual([
      "● claude-sonnet-4-5-20250929 · session 3f6c2a9e-81d4-4c2b-9a57-0e4b7d1c5f23",
      "I'll run the test suite first to see what is failing.",
      "● Bash(npm test)",
      "  └ ✗ > proj@1.0.0 test",
      "    > node --test",
      "    not ok 1 - add() adds two numbers",
      "      expected: 5",
      "    … +3 lines",
      "● Edit(/home/dev/proj/src/math.js)",
      "  └ The file /home/dev/proj/src/math.js has been updated. Here's the result of running `cat -n` on a snippet of the edited file:",
      "         1\texport function add(a, b) {",
      "         2\t  return a + b;",
      "         3\t}",
      "Fixed the bug: `add()` in `src/math.js` was subtracting instead of adding. It now returns `a + b`, which is what the failing test expects.",
    ]);
    expect(noRawJson(shown)).toBe(true);
  });

  it("reads error_max_turns as a finished failure with its errors and cost", () => {
    const { report, shown } = feedTranscript("claude-stream-json", "claude-error.jsonl");
    expect(report).toMatchObject({
      finished: true,
      success: false,
      error: "Reached maximum number of turns (2)",
      costUsd: 0.076527,
    });
    expect(report.usage.map(totalInput)).toEqual([10 + 18292 + 17890]);
    expect(shown.at(-1)).toBe("✗ error_max_turns: Reached maximum number of turns (2)");
  });

  it("treats a run cut before its result line as not finished", () => {
    const { report } = feedTranscript("claude-stream-json", "claude-success.jsonl", { dropLast: 1 });
    expect(report).toMatchObject({
      finished: false,
      success: false,
      sessionId: "3f6c2a9e-81d4-4c2b-9a57-0e4b7d1c5f23",
      model: "claude-sonnet-4-5-20250929",
    });
  });

  it("tolerates unparseable lines and unknown events and fields, and shows stray text as it is", () => {
    const { report, shown } = feed("claude-stream-json", [
      "[hook] formatting…",
      '{"type":"rate_limit_event","rate_limit_info":{"status":"allowed"}}',
      '{"type":"stream_event","event":{"type":"content_block_delta"}}',
      '{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"s1","brand_new_field":{"x":1},"usage":{"input_tokens":"many"}}',
      "{not json",
    ]);
    expect(shown).toEqual(["[hook] formatting…", "ok", "{not json"]);
    expect(report).toMatchObject({ finished: true, success: true, result: "ok", sessionId: "s1" });
    expect(report.usage).toEqual([{ input: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, output: 0 }]);
  });

  it("reads an API failure that says subtype success but is_error, with its HTTP status", () => {
    const { report, shown } = feed("claude-stream-json", [
      '{"type":"system","subtype":"init","session_id":"s2","model":"claude-sonnet-4-5-20250929"}',
      '{"type":"assistant","message":{"model":"<synthetic>","content":[{"type":"text","text":"Invalid API key · Fix external API key"}]},"error":"authentication_failed","session_id":"s2"}',
      '{"type":"result","subtype":"success","is_error":true,"result":"Invalid API key · Fix external API key","api_error_status":401,"session_id":"s2","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"modelUsage":{}}',
    ]);
    expect(report).toMatchObject({
      finished: true,
      success: false,
      error: "Invalid API key · Fix external API key",
      errorStatus: 401,
      model: "claude-sonnet-4-5-20250929",
    });
    expect(shown).toContain("✗ Invalid API key · Fix external API key");
  });

  it("keeps a plain-text error as the failure when no result line came", () => {
    const { report } = feed("claude-stream-json", ["Invalid API key · Fix external API key"]);
    expect(report).toMatchObject({ finished: false, success: false, error: "Invalid API key · Fix external API key" });
  });
});
