// Issue 13 (3): an attempt's cost cap (its budget reservation) reaches claude as --max-budget-usd, is
// read from what the CLI streams, and a stop at it is `budget_exceeded`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandFor } from "../../agents/runtime/attempt-runner.ts";
import { classifyAttempt, type AttemptFacts } from "../../agents/runtime/failure-classes.ts";
import { parserFor } from "../../agents/runtime/formats/index.ts";
import type { ExecutorSpec } from "../../protocol/index.ts";

const claude: ExecutorSpec = { command: ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose"], format: "claude-stream-json", timeout_s: 60 };
const facts = (overrides: Partial<AttemptFacts>): AttemptFacts => ({ program: "claude", format: "claude-stream-json", exitCode: 1, signal: null, report: { finished: true, success: false, usage: [] }, stderr: "", stdout: "", ...overrides });

describe("the attempt's cost cap", () => {
  it("is passed to claude as --max-budget-usd, and to no other program", () => {
    expect(commandFor(claude, "fix it", 0.45)).toEqual(["claude", "-p", "fix it", "--output-format", "stream-json", "--verbose", "--max-budget-usd", "0.45"]);
    expect(commandFor(claude, "fix it")).not.toContain("--max-budget-usd");
    expect(commandFor({ ...claude, command: ["claude", "-p", "{prompt}", "--max-budget-usd", "9"] }, "x", 0.45).filter((part) => part === "--max-budget-usd")).toHaveLength(1);
    expect(commandFor({ ...claude, command: ["codex", "exec", "{prompt}"], format: "codex-jsonl" }, "x", 0.45)).toEqual(["codex", "exec", "x"]);
  });

  it("is read from claude's streamed messages before the result, counting a message once", () => {
    const parser = parserFor("claude-stream-json");
    const lines = readFileSync(join(import.meta.dirname, "../fixtures/cli/claude-costly.jsonl"), "utf8").trim().split("\n");
    for (const line of lines.slice(0, 3)) parser.stdout(line);
    // The same message again (stream-json repeats it per content block): not counted twice.
    parser.stdout(lines[2] ?? "");
    expect(parser.spent?.().usage.reduce((sum, u) => sum + u.input, 0)).toBe(100_000);
    for (const line of lines.slice(3)) parser.stdout(line);
    expect(parser.spent?.()).toMatchObject({ costUsd: 0.9 });
  });

  it("classes the agent's stop at the cap and claude's own stop at --max-budget-usd as budget_exceeded", () => {
    expect(classifyAttempt(facts({ stopped: { as: "budget_exceeded", note: "past its cap" } }))).toEqual({ failure_class: "budget_exceeded", message: "past its cap" });
    const verdict = classifyAttempt(facts({ report: { finished: true, success: false, usage: [], error: "error_max_budget_usd", errorKind: "error_max_budget_usd" } }));
    expect(verdict.failure_class).toBe("budget_exceeded");
  });
});
