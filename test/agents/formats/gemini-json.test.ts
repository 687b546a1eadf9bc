import { describe, expect, it } from "vitest";
import { RateTable } from "../../../agents/runtime/cost-rates.ts";
import { totalInput } from "../../../agents/runtime/formats/run-report.ts";
import { feed, feedTranscript } from "./feed.ts";

describe("gemini-json", () => {
  it("reads the success sample: response, session, the main model, tokens with thoughts as output", () => {
    const { report, shown } = feedTranscript("gemini-json", "gemini-success.json");
    expect(report).toMatchObject({
      finished: true,
      success: true,
      sessionId: "6f0d2c71-8a4e-4b9b-9c1e-2d7f5a3b8e10",
      model: "gemini-2.5-flash",
    });
    expect(report.result).toMatch(/^Fixed the failing test/);
    expect(report.usage).toEqual([
      { model: "gemini-2.5-flash", input: 9871, cacheRead: 14444, cacheWrite: 0, cacheWrite1h: 0, output: 412 + 476 },
    ]);
    expect(report.usage.map(totalInput)).toEqual([24315]);
    expect(shown).toEqual([report.result]);
  });

  it("prices it at gemini-2.5-flash's rates: input·In + cached·Cached + (candidates + thoughts)·Out", () => {
    const { report } = feedTranscript("gemini-json", "gemini-success.json");
    expect(new RateTable().costOf(report.usage, report.model, "gemini")).toBeCloseTo(
      (9871 * 0.3 + 14444 * 0.03 + 888 * 2.5) / 1e6,
      12,
    );
  });

  it("reads the auth error JSON from stderr with its code 41, stdout empty", () => {
    const { report, shown } = feedTranscript("gemini-json", "gemini-success.json", {
      dropLast: Number.MAX_SAFE_INTEGER,
      stderr: "gemini-error.json",
    });
    expect(report).toMatchObject({
      finished: true,
      success: false,
      errorCode: 41,
      sessionId: "0c9e7b52-3f1a-4d86-a2e4-91b5c7d3f608",
    });
    expect(report.error).toMatch(/^Please set an Auth method/);
    expect(shown).toEqual([expect.stringMatching(/^✗ Please set an Auth method/)]);
  });

  it("takes an HTTP code in the error JSON as a status", () => {
    const { report } = feed(
      "gemini-json",
      [],
      ['{"error":{"type":"Error","message":"API key not valid. Please pass a valid API key.","code":400}}'],
    );
    expect(report).toMatchObject({ finished: true, success: false, errorStatus: 400 });
  });

  it("treats output that is not the JSON document as not finished, and shows it", () => {
    const { report, shown } = feed("gemini-json", ["{", '  "session_id": "x",']);
    expect(report).toMatchObject({ finished: false, success: false });
    expect(shown).toEqual(["{", '  "session_id": "x",']);
  });
});
