import { describe, expect, it } from "vitest";
import { CreateTaskRequest, resolveExecutorTier } from "../../protocol/index.ts";

describe("task requests", () => {
  it("takes instruction or prompt, not both, not neither", () => {
    expect(CreateTaskRequest.safeParse({ instruction: "x" }).success).toBe(true);
    expect(CreateTaskRequest.safeParse({ prompt: "x", name: "fix-login", cwd: "/src" }).success).toBe(true);
    expect(CreateTaskRequest.safeParse({ instruction: "x", prompt: "y" }).success).toBe(false);
    expect(CreateTaskRequest.safeParse({}).success).toBe(false);
  });

  it("refuses names that could be mistaken for task ids or paths", () => {
    expect(CreateTaskRequest.safeParse({ instruction: "x", name: "01J00000000000000000000000" }).success).toBe(false);
    expect(CreateTaskRequest.safeParse({ instruction: "x", name: "../etc" }).success).toBe(false);
  });

  it("resolves tier ids and CLI names to tiers", () => {
    expect(resolveExecutorTier("opus")).toBe("opus");
    expect(resolveExecutorTier("claude")).toBe("sonnet");
    expect(resolveExecutorTier("opencode")).toBe("deepseek");
    expect(resolveExecutorTier("gpt")).toBeNull();
  });
});
