import { describe, expect, it } from "vitest";
import { MAC_EXECUTORS_FILE } from "../../agents/mac/mac-agent.ts";
import { commandFor } from "../../agents/runtime/attempt-command.ts";
import { readExecutorsFile } from "../../agents/runtime/executors-file.ts";
import { modelFromCommand } from "../../agents/runtime/model-from-command.ts";
import { VM_EXECUTORS_FILE } from "../../agents/vm/vm-agent.ts";
import { ExecutorTier } from "../../protocol/index.ts";

const expected = {
  deepseek: { program: "opencode", format: "opencode-json", model: "deepseek/deepseek-v4-flash" },
  "gemini-flash": { program: "gemini", format: "gemini-stream-json", model: "gemini-2.5-flash" },
  "gemini-pro": { program: "gemini", format: "gemini-stream-json", model: "gemini-2.5-pro" },
  // codex 0.171.0 bundles metadata for gpt-5.5, not gpt-5.3-codex ("Model metadata … not found", docs/cli-formats.md).
  codex: { program: "codex", format: "codex-jsonl", model: "gpt-5.5" },
  sonnet: { program: "claude", format: "claude-stream-json", model: "sonnet" },
  opus: { program: "claude", format: "claude-stream-json", model: "opus" },
} as const;

describe.each([
  ["vm", VM_EXECUTORS_FILE],
  ["mac", MAC_EXECUTORS_FILE],
])("the default %s executors file", (_kind, path) => {
  it("is valid and serves every tier with its real CLI, format and model", () => {
    const read = readExecutorsFile(path);
    if (!read.ok) throw new Error(read.error.message);
    for (const tier of ExecutorTier.options) {
      const spec = read.value.executors[tier];
      expect(spec, tier).toBeDefined();
      expect(spec?.command[0]).toBe(expected[tier].program);
      expect(spec?.format).toBe(expected[tier].format);
      expect(modelFromCommand(spec?.command ?? [])).toBe(expected[tier].model);
      expect(spec?.command.filter((part) => part === "{prompt}")).toHaveLength(1);
    }
  });

  it("asks each CLI for the output its format reads", () => {
    const read = readExecutorsFile(path);
    if (!read.ok) throw new Error(read.error.message);
    const { sonnet, codex, deepseek } = read.value.executors;
    expect(sonnet?.command).toEqual(expect.arrayContaining(["-p", "--output-format", "stream-json", "--verbose"]));
    expect(codex?.command.slice(0, 3)).toEqual(["codex", "exec", "--json"]);
    expect(deepseek?.command).toEqual(expect.arrayContaining(["run", "--format", "json"]));
  });

  it("continues a session with each CLI's own flag just before the prompt, except gemini whose prompt is -p's value", () => {
    const read = readExecutorsFile(path);
    if (!read.ok) throw new Error(read.error.message);
    const { executors } = read.value;
    const resumed = (tier: ExecutorTier): string[] | undefined => {
      const spec = executors[tier];
      return spec?.resume === undefined ? undefined : commandFor(spec, "PROMPT", undefined, "SID");
    };
    // docs/cli-formats.md: claude --resume <id> (-p takes no value), codex exec [options] resume <id> <prompt>,
    // opencode --session <id>.
    expect(resumed("sonnet")?.slice(0, 5)).toEqual(["claude", "-p", "--resume", "SID", "PROMPT"]);
    expect(resumed("opus")?.slice(0, 5)).toEqual(["claude", "-p", "--resume", "SID", "PROMPT"]);
    expect(resumed("codex")?.slice(-3)).toEqual(["resume", "SID", "PROMPT"]);
    expect(resumed("codex")?.slice(0, 3)).toEqual(["codex", "exec", "--json"]);
    expect(resumed("deepseek")?.slice(-3)).toEqual(["--session", "SID", "PROMPT"]);
    // `gemini -p <prompt>`: pieces put before the prompt would split -p from its value.
    expect(resumed("gemini-flash")).toBeUndefined();
    expect(resumed("gemini-pro")).toBeUndefined();
  });
});
