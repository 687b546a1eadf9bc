import { describe, expect, it } from "vitest";
import { feed, feedTranscript, transcriptLines } from "./feed.ts";

describe("claude-json", () => {
  it("reads the one-line result object and shows its answer at the end", () => {
    const { report, shown } = feedTranscript("claude-json", "claude-result.json");
    expect(report).toMatchObject({
      finished: true,
      success: true,
      sessionId: "3f6c2a9e-81d4-4c2b-9a57-0e4b7d1c5f23",
      model: "claude-sonnet-4-5-20250929",
      costUsd: 0.08538075,
    });
    expect(report.usage).toEqual([{ input: 15, cacheRead: 36165, cacheWrite: 18515, cacheWrite1h: 0, output: 337 }]);
    expect(shown).toEqual([expect.stringContaining("Fixed the bug")]);
  });

  it("reads the array of every message that some versions print with --verbose", () => {
    const messages = transcriptLines("claude-success.jsonl").map((line) => JSON.parse(line) as unknown);
    const { report, shown } = feed("claude-json", JSON.stringify(messages, null, 2).split("\n"));
    expect(report).toMatchObject({
      finished: true,
      success: true,
      model: "claude-sonnet-4-5-20250929",
      costUsd: 0.08538075,
    });
    expect(shown).toContain("● Bash(npm test)");
    expect(shown.filter((line) => line.startsWith("Fixed the bug"))).toHaveLength(1);
  });

  it("reads a plain-text error as an unfinished run with that error", () => {
    const { report, shown } = feedTranscript("claude-json", "claude-auth-failure.txt");
    expect(report).toMatchObject({ finished: false, success: false, error: "Invalid API key · Fix external API key" });
    expect(shown).toEqual(["Invalid API key · Fix external API key"]);
  });

  it("reads nothing at all as an unfinished run", () => {
    expect(feed("claude-json", []).report).toMatchObject({ finished: false, success: false, usage: [] });
  });
});
