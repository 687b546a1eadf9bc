import { describe, expect, it } from "vitest";
import { modelFromCommand } from "../../agents/runtime/model-from-command.ts";

describe("modelFromCommand", () => {
  it.each([
    [["codex", "exec", "--json", "-m", "gpt-5.3-codex", "{prompt}"], "gpt-5.3-codex"],
    [["opencode", "run", "-m", "deepseek/deepseek-v4-flash", "{prompt}"], "deepseek/deepseek-v4-flash"],
    [["claude", "-p", "{prompt}", "--model", "opus"], "opus"],
    [["gemini", "--model=gemini-2.5-pro"], "gemini-2.5-pro"],
    [["cli", "{prompt}"], undefined],
    [["cli", "-m", "{prompt}"], undefined],
    [["cli", "--", "-m", "x"], undefined],
  ])("%j names %s", (command, model) => {
    expect(modelFromCommand(command)).toBe(model);
  });
});
