// An attempt's cost cap (docs/costs.md): given to claude as --max-budget-usd to four decimals, read from
// what the CLI streams, and a run that goes on past it is stopped as `budget_exceeded` (SIGKILL soon after
// SIGTERM); a cost known only at the end keeps the result and marks it `over_cap`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandFor } from "../../agents/runtime/attempt-command.ts";
import { type CostCap, pastCap } from "../../agents/runtime/attempt-cost-cap.ts";
import type { AttemptResult } from "../../agents/runtime/attempt-run-types.ts";
import { runAttempt } from "../../agents/runtime/attempt-runner.ts";
import { RateTable } from "../../agents/runtime/cost-rates.ts";
import { type AttemptFacts, classifyAttempt } from "../../agents/runtime/failure-classes.ts";
import { parserFor } from "../../agents/runtime/formats/index.ts";
import type { ExecutorSpec, OutputLine } from "../../protocol/index.ts";
import { isRunning } from "./live-processes.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures");
const claude: ExecutorSpec = {
  command: ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose"],
  format: "claude-stream-json",
  timeout_s: 60,
};
const facts = (overrides: Partial<AttemptFacts>): AttemptFacts => ({
  program: "claude",
  format: "claude-stream-json",
  exitCode: 1,
  signal: null,
  report: { finished: true, success: false, usage: [] },
  stderr: "",
  stdout: "",
  ...overrides,
});

/**
 * The codex stand-in: turns of 10,000 input and 1,000 output tokens, priced here at $5 / $30 per million: $0.08 a turn.
 */
const codexTurns: ExecutorSpec = {
  command: [process.execPath, join(FIXTURES, "cost-codex-turns.mjs"), "-m", "gpt-5.5", "{prompt}"],
  format: "codex-jsonl",
  timeout_s: 60,
};
const rates = new RateTable({ models: { "gpt-5.5": { input: 5, output: 30 } } });
const TURN_USD = 0.08;
const taskCap: CostCap = { usd: 0.2, of: "task" };

async function runCapped(
  executor: ExecutorSpec,
  prompt: string,
  cap: CostCap,
  killGraceMs = 20_000,
): Promise<{ result: AttemptResult; lines: OutputLine[]; endedAt: number }> {
  const lines: OutputLine[] = [];
  const running = runAttempt({
    executor,
    prompt,
    cwd: process.cwd(),
    rates,
    costCap: cap,
    killGraceMs,
    onLine: (line) => lines.push(line),
  });
  const result = await running.done;
  return { result, lines, endedAt: Date.now() };
}

const systemLines = (lines: readonly OutputLine[]): string[] =>
  lines.filter((line) => line.stream === "system").map((line) => line.text);

describe("the attempt's cost cap", () => {
  it("is passed to claude as --max-budget-usd to four decimals, and to no other program", () => {
    expect(commandFor(claude, "fix it", 0.45)).toEqual([
      "claude",
      "-p",
      "fix it",
      "--output-format",
      "stream-json",
      "--verbose",
      "--max-budget-usd",
      "0.4500",
    ]);
    // Rounded to cents this was 0.02, above the cap.
    expect(commandFor(claude, "fix it", 0.0168).at(-1)).toBe("0.0168");
    expect(commandFor(claude, "fix it")).not.toContain("--max-budget-usd");
    expect(
      commandFor({ ...claude, command: ["claude", "-p", "{prompt}", "--max-budget-usd", "9"] }, "x", 0.45).filter(
        (part) => part === "--max-budget-usd",
      ),
    ).toHaveLength(1);
    expect(commandFor({ ...claude, command: ["codex", "exec", "{prompt}"], format: "codex-jsonl" }, "x", 0.45)).toEqual(
      ["codex", "exec", "x"],
    );
  });

  it("names which cap it was, to four decimals", () => {
    expect(pastCap({ usd: 0.0168, of: "task" })).toBe("past the task's cap of $0.0168 (max_cost_usd)");
    expect(pastCap({ usd: 0.45, of: "daily_halt" })).toBe("past its share of the daily halt, $0.4500");
    expect(pastCap({ usd: 0.3, of: "assigned" })).toBe("past its assigned cap of $0.3000");
  });

  it("is read from claude's streamed messages, counting a message once and leaving the result's total to the end", () => {
    const parser = parserFor("claude-stream-json");
    const lines = readFileSync(join(FIXTURES, "cli/claude-costly.jsonl"), "utf8").trim().split("\n");
    for (const line of lines.slice(0, 3)) parser.stdout(line);
    // The same message again (stream-json repeats it per content block): not counted twice.
    parser.stdout(lines[2] ?? "");
    expect(parser.spent?.().usage.reduce((sum, u) => sum + u.input, 0)).toBe(100_000);
    for (const line of lines.slice(3)) parser.stdout(line);
    expect(parser.spent?.().usage.reduce((sum, u) => sum + u.input, 0)).toBe(300_000);
    expect(parser.spent?.().costUsd).toBeUndefined();
    expect(parser.end().report.costUsd).toBe(0.9);
  });

  it("classes the agent's stop at the cap and claude's own stop at --max-budget-usd as budget_exceeded", () => {
    expect(classifyAttempt(facts({ stopped: { as: "budget_exceeded", note: "past its cap" } }))).toEqual({
      failure_class: "budget_exceeded",
      message: "past its cap",
    });
    const verdict = classifyAttempt(
      facts({
        report: {
          finished: true,
          success: false,
          usage: [],
          error: "error_max_budget_usd",
          errorKind: "error_max_budget_usd",
        },
      }),
    );
    expect(verdict.failure_class).toBe("budget_exceeded");
  });

  it("stops a codex run that goes on past the cap as budget_exceeded, SIGKILLs it soon after an ignored SIGTERM, and reports what it streamed", async () => {
    const { result, lines, endedAt } = await runCapped(codexTurns, "turns=500 pause=100 stubborn", taskCap);
    expect(result.failure_class).toBe("budget_exceeded");
    // Turn 3 took it to $0.24; turn 4 starting is the CLI going on.
    const stops = systemLines(lines).filter((text) => text.includes("stopping it"));
    expect(stops).toEqual([
      "[agent] the attempt has cost $0.2400, past the task's cap of $0.2000 (max_cost_usd); stopping it",
    ]);
    expect(result.error?.message).toBe(
      "the attempt has cost $0.2400, past the task's cap of $0.2000 (max_cost_usd); stopping it",
    );
    // It ignored SIGTERM and was killed; the general grace here is 20 s, the budget stop's far shorter.
    expect(lines.some((line) => line.stream === "stderr" && line.text === "SIGTERM ignored; going on")).toBe(true);
    expect(result.signal).toBe("SIGKILL");
    expect(result.exit_code).toBeNull();
    const stoppedAt = lines.find((line) => line.text === stops[0])?.ts ?? 0;
    expect(endedAt - stoppedAt).toBeLessThan(10_000);
    const pid = Number(lines.find((line) => line.stream === "stderr" && line.text.startsWith("pid "))?.text.slice(4));
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
    // The cost reported is what it streamed up to its death: whole turns, at least the three that passed the cap.
    const turns = (result.tokens?.input ?? 0) / 10_000;
    expect(Number.isInteger(turns)).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(turns).toBeLessThan(100);
    expect(result.cost_usd).toBeCloseTo(turns * TURN_USD, 10);
    const lastShown = Number(
      lines
        .filter((line) => line.stream === "stdout" && /^turn \d+ done$/.test(line.text))
        .at(-1)
        ?.text.split(" ")[1],
    );
    expect([lastShown, lastShown - 1]).toContain(turns);
  }, 60_000);

  it("keeps a codex run whose single turn passes the cap at its end: its own class, over_cap, one note", async () => {
    const { result, lines } = await runCapped(codexTurns, "turns=1 input=100000 output=10000", taskCap);
    expect(result.failure_class).toBeUndefined();
    expect(result.exit_code).toBe(0);
    expect(result.over_cap).toBe(true);
    expect(result.cost_usd).toBeCloseTo(0.8, 10);
    expect(result.output).toBe("turn 1 done");
    expect(systemLines(lines).filter((text) => text.includes("cap"))).toEqual([
      "[agent] the CLI reported its cost $0.8000 only at its end, past the task's cap of $0.2000 (max_cost_usd); the result is kept, the excess counts toward the daily halt",
    ]);
  }, 30_000);

  it("keeps a claude run that reports total_cost_usd only in its result: succeeded, over_cap", async () => {
    const fake: ExecutorSpec = {
      command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"],
      format: "claude-stream-json",
      timeout_s: 30,
    };
    const { result, lines } = await runCapped(fake, "play=cost-claude-end-only.jsonl pause=20", {
      usd: 0.45,
      of: "daily_halt",
    });
    expect(result.failure_class).toBeUndefined();
    expect(result.over_cap).toBe(true);
    expect(result.cost_usd).toBe(1.5);
    expect(result.output).toBe("Done; the whole run cost $1.50.");
    expect(systemLines(lines)).toContain(
      "[agent] the CLI reported its cost $1.5000 only at its end, past its share of the daily halt, $0.4500; the result is kept, the excess counts toward the daily halt",
    );
  }, 30_000);

  it("leaves a run under its cap alone: no stop, no over_cap", async () => {
    const { result, lines } = await runCapped(codexTurns, "turns=2 pause=20", { usd: 1, of: "task" });
    expect(result.failure_class).toBeUndefined();
    expect(result.over_cap).toBeUndefined();
    expect(result.cost_usd).toBeCloseTo(2 * TURN_USD, 10);
    expect(systemLines(lines).some((text) => text.includes("cap"))).toBe(false);
  }, 30_000);
});
