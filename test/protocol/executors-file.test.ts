import { describe, expect, it } from "vitest";
import { ExecutorsFile } from "../../protocol/index.ts";

describe("executors file", () => {
  it("accepts the example of docs/executors-file.md", () => {
    const file = {
      executors: {
        sonnet: {
          command: ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose", "--model", "sonnet"],
          format: "claude-stream-json",
          timeout_s: 1800,
        },
      },
    };
    expect(ExecutorsFile.safeParse(file).success).toBe(true);
  });

  it("refuses unknown tiers, formats and empty commands", () => {
    expect(ExecutorsFile.safeParse({ executors: { gpt: { command: ["x"], format: "text" } } }).success).toBe(false);
    expect(ExecutorsFile.safeParse({ executors: { sonnet: { command: ["x"], format: "xml" } } }).success).toBe(false);
    expect(ExecutorsFile.safeParse({ executors: { sonnet: { command: [], format: "text" } } }).success).toBe(false);
    expect(ExecutorsFile.safeParse({ executors: {} }).success).toBe(false);
  });
});
