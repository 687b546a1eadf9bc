import { describe, expect, it } from "vitest";
import { feed } from "./feed.ts";

describe("text", () => {
  it("shows every line as it is and reports the tail as the output, with no tokens", () => {
    const { report, shown } = feed("text", ["one", '{"type":"result"}', "three"]);
    expect(shown).toEqual(["one", '{"type":"result"}', "three"]);
    expect(report).toEqual({ finished: true, success: true, usage: [], result: 'one\n{"type":"result"}\nthree' });
  });

  it("keeps only the last 100 lines as output", () => {
    const { report } = feed(
      "text",
      Array.from({ length: 150 }, (_, i) => `line ${i}`),
    );
    expect(report.result?.split("\n")).toHaveLength(100);
    expect(report.result?.startsWith("line 50\n")).toBe(true);
  });
});
