import { describe, expect, it } from "vitest";
import { RateTable } from "../../../agents/runtime/cost-rates.ts";
import { feed, feedTranscript, noRawJson } from "./feed.ts";

describe("codex-jsonl", () => {
  it("reads the success sample: last agent message, thread id, tokens with input including cached", () => {
    const { report } = feedTranscript("codex-jsonl", "codex-success.jsonl");
    expect(report).toMatchObject({
      finished: true,
      success: true,
      sessionId: "019a7c2e-4b1f-7d03-9e52-3c8f1a6b2d40",
      result: "Fixed `add()` in `src/math.js` (it subtracted instead of adding). `npm test` now passes.",
    });
    expect(report.model).toBeUndefined();
    expect(report.costUsd).toBeUndefined();
    expect(report.usage).toEqual([
      { input: 48213 - 41984, cacheRead: 41984, cacheWrite: 0, cacheWrite1h: 0, output: 1287 },
    ]);
  });

  it("prices the run: (input − cached)·In + cached·Cached + output·Out", () => {
    const { report } = feedTranscript("codex-jsonl", "codex-success.jsonl");
    const rates = new RateTable();
    // gpt-5.3-codex: $1.75 / $0.175 / $14 per MTok.
    expect(rates.costOf(report.usage, "gpt-5.3-codex", "codex")).toBeCloseTo(
      (6229 * 1.75 + 41984 * 0.175 + 1287 * 14) / 1e6,
      12,
    );
    // A model not in the table: Codex's fallback rate, $2.5 / $10 (cached at 0.1×).
    expect(rates.costOf(report.usage, undefined, "codex")).toBeCloseTo(
      (6229 * 2.5 + 41984 * 0.25 + 1287 * 10) / 1e6,
      12,
    );
  });

  it("shows commands with their output and exit, reasoning, file changes and the answer", () => {
    const { shown } = feedTranscript("codex-jsonl", "codex-success.jsonl");
    expect(shown).toEqual([
      "✻ Running tests to locate the failure",
      "$ npm test",
      "  └ > proj@1.0.0 test",
      "    > node --test",
      "    not ok 1 - add() adds two numbers",
      "      expected: 5",
      "    … +3 lines",
      "  (exit 1)",
      "✻ Fixing the operator in add()",
      "● Update(/home/dev/proj/src/math.js)",
      "$ npm test",
      "  └ > proj@1.0.0 test",
      "    > node --test",
      "    ok 1 - add() adds two numbers",
      "    # pass 1",
      "    … +1 line",
      "Fixed `add()` in `src/math.js` (it subtracted instead of adding). `npm test` now passes.",
    ]);
    expect(noRawJson(shown)).toBe(true);
  });

  it("reads the 401 failure sample as a finished failure carrying the message", () => {
    const { report, shown } = feedTranscript("codex-jsonl", "codex-failure.jsonl");
    expect(report).toMatchObject({
      finished: true,
      success: false,
      sessionId: "019a7c31-0e2d-7a90-b4c1-58d2e7f3a916",
      usage: [],
    });
    expect(report.error).toMatch(/^unexpected status 401 Unauthorized: Incorrect API key provided/);
    expect(shown.at(-1)).toMatch(/^✗ unexpected status 401/);
  });

  it("treats an interrupted run (no turn.completed) as not finished, and tolerates junk lines", () => {
    const { report, shown } = feed("codex-jsonl", [
      '{"type":"thread.started","thread_id":"t1"}',
      "warning: something",
      '{"type":"error","message":"Reconnecting... 1/5"}',
      '{"type":"item.completed","item":{"id":"i","type":"brand_new"}}',
    ]);
    expect(report).toMatchObject({ finished: false, success: false, sessionId: "t1", error: "Reconnecting... 1/5" });
    expect(shown).toEqual(["warning: something", "! Reconnecting... 1/5"]);
  });
});
