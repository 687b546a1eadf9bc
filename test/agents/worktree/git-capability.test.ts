// What the agent's hello says about git (issue 12, point 8: capabilities, not versions).
import { describe, expect, it } from "vitest";
import { gitCapability } from "../../../agents/runtime/worktree/index.ts";
import { supportsWorktrees } from "../../../agents/runtime/worktree/git-capability.ts";

describe("gitCapability", () => {
  it("finds this machine's git able to make worktrees, and reports its version", async () => {
    const capability = await gitCapability();
    expect(capability.worktree).toBe(true);
    expect(capability.git_version).toMatch(/^\d+\.\d+/);
  });

  it("needs git 2.17 (git worktree remove)", () => {
    expect(supportsWorktrees("2.16.6")).toBe(false);
    expect(supportsWorktrees("2.17.0")).toBe(true);
    expect(supportsWorktrees("2.50.1 (Apple Git-155)")).toBe(true);
    expect(supportsWorktrees("3.0.0")).toBe(true);
    expect(supportsWorktrees("1.9.5")).toBe(false);
    expect(supportsWorktrees("unknown")).toBe(false);
  });
});
