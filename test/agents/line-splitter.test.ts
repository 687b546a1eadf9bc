import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../agents/runtime/line-splitter.ts";

function splitAll(chunks: (Buffer | string)[], maxChars?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxChars);
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  it("joins a line that arrives over several chunks", () => {
    expect(splitAll(["hel", "lo wo", "rld\nsecond", " line\n"])).toEqual(["hello world", "second line"]);
  });

  it("strips CRLF endings, also when the \\r and \\n arrive in different chunks", () => {
    expect(splitAll(["one\r\ntwo\r", "\nthree\n"])).toEqual(["one", "two", "three"]);
  });

  it("keeps empty lines", () => {
    expect(splitAll(["a\n\nb\n"])).toEqual(["a", "", "b"]);
  });

  it("decodes a UTF-8 character cut between two chunks", () => {
    const bytes = Buffer.from("héllo → 世界 🚀\n");
    const pieces = [bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9, 17), bytes.subarray(17)];
    expect(splitAll(pieces)).toEqual(["héllo → 世界 🚀"]);
  });

  it("splits a line longer than the limit into pieces of at most the limit", () => {
    const lines = splitAll([`${"a".repeat(25)}\n`], 10);
    expect(lines).toEqual(["a".repeat(10), "a".repeat(10), "a".repeat(5)]);
  });

  it("cuts an endless line without a newline before it ends", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 10);
    for (let i = 0; i < 5; i++) splitter.push(Buffer.from("x".repeat(7)));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((line) => line.length === 10)).toBe(true);
    splitter.end();
    expect(lines.join("")).toBe("x".repeat(35));
  });

  it("never splits a surrogate pair when cutting a long line", () => {
    const lines = splitAll(["abcdefghi🚀rest\n"], 10);
    expect(lines).toEqual(["abcdefghi", "🚀rest"]);
  });

  it("does not turn a CRLF line of exactly the limit into an extra empty line", () => {
    expect(splitAll([`${"b".repeat(10)}\r`, "\nnext\n"], 10)).toEqual(["b".repeat(10), "next"]);
  });

  it("emits a final line that has no newline when the stream ends", () => {
    expect(splitAll(["first\nlast without newline"])).toEqual(["first", "last without newline"]);
  });

  it("emits nothing for an empty stream", () => {
    expect(splitAll([])).toEqual([]);
  });
});
