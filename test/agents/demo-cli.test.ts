import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../agents/runtime/attempt-runner.ts";
import type { ExecutorFormat, OutputLine } from "../../protocol/index.ts";

const DEMO_CLI = join(import.meta.dirname, "../../agents/demo-cli/demo-cli.mjs");

async function replay(format: ExecutorFormat, extra: string[] = [], cwd = process.cwd()) {
  const lines: OutputLine[] = [];
  const args = format === "text" ? [] : ["--format", format];
  const running = runAttempt({
    executor: {
      command: [DEMO_CLI, ...args, ...extra, "{prompt}"],
      format,
      timeout_s: 30,
      env: { DEMO_CLI_DELAY_MS: "0" },
    },
    prompt: "-fix the failing test",
    cwd,
    onLine: (line) => lines.push(line),
  });
  return { result: await running.done, lines };
}

describe("the demo CLI", () => {
  it("replays plain text by default, taking a prompt that starts with '-' as the prompt", async () => {
    const { result, lines } = await replay("text");
    expect(result.failure_class).toBeUndefined();
    expect(lines[0]?.text).toBe("● Task: -fix the failing test");
  });

  it.each([
    ["claude-stream-json", [], { model: "claude-sonnet-4-5-20250929", cost_usd: 0.08538075 }],
    ["claude-json", [], { model: "claude-sonnet-4-5-20250929", cost_usd: 0.08538075 }],
    ["claude-stream-json", ["-m", "claude-opus-4-5-20251101"], { model: "claude-opus-4-5-20251101" }],
    ["codex-jsonl", ["-m", "gpt-5.3-codex"], { model: "gpt-5.3-codex", tokens: { input: 48213, output: 1287 } }],
    [
      "gemini-json",
      ["-m", "gemini-2.5-pro"],
      {
        model: "gemini-2.5-pro",
        tokens: { input: 24315, output: 888 },
        cost_usd: (9871 * 1.25 + 14444 * 0.125 + 888 * 10) / 1e6,
      },
    ],
    ["gemini-stream-json", [], { model: "gemini-2.5-flash", tokens: { input: 24315, output: 888 } }],
    [
      "opencode-json",
      ["-m", "deepseek/deepseek-v4-flash"],
      { model: "deepseek/deepseek-v4-flash", tokens: { input: 40245, output: 286 } },
    ],
  ] as const)("replays a %s session that the agent reads as a success", async (format, extra, expected) => {
    const { result } = await replay(format, [...extra]);
    expect(result.failure_class).toBeUndefined();
    expect(result).toMatchObject({ exit_code: 0, ...expected });
    expect(result.session_id).toBeTruthy();
  });

  it.each(["text", "claude-stream-json", "codex-jsonl", "gemini-stream-json", "opencode-json"] as const)(
    "in the demo repository, tells in %s the story of the edit it makes, in colour",
    async (format) => {
      const repo = mkdtempSync(join(tmpdir(), "demo-cli-story-"));
      try {
        writeFileSync(join(repo, ".mesh-demo"), "");
        const { result, lines } = await replay(format, [], repo);
        expect(result).toMatchObject({ exit_code: 0 });
        const log = lines.map((line) => line.text).join("\n");
        expect(log).toContain(format === "text" ? "src/router.ts" : "router");
        expect(log).not.toMatch(/math\.js|add\(\)/);
        // The test runner's colours reach the log as ANSI escapes, for the page to draw.
        expect(log).toMatch(/\u001b\[3[12]m/);
        expect(readFileSync(join(repo, "src/router.ts"), "utf8")).toContain("status: 400");
      } finally {
        rmSync(repo, { recursive: true, force: true });
      }
    },
  );

  it("replays a recorded failure with the real CLI's exit", async () => {
    const { result } = await replay("gemini-json", ["--transcript", "gemini-error.json"]);
    expect(result).toMatchObject({ exit_code: 41, failure_class: "auth_failure" });
  });
});
