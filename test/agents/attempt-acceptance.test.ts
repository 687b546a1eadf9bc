// The runner end to end without the mesh: a fake CLI replays sample transcripts, writes files in a
// git work tree, and the acceptance command runs after it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AttemptRunInput } from "../../agents/runtime/attempt-run-types.ts";
import { runAttempt } from "../../agents/runtime/attempt-runner.ts";
import { type Acceptance, type ExecutorFormat, MAX_LINE_CHARS, type OutputLine } from "../../protocol/index.ts";
import { transcriptLines } from "./formats/feed.ts";
import { gitRepo } from "./git-repo.ts";

const FAKE_CLI = join(import.meta.dirname, "../fixtures/cli/fake-cli.mjs");

function attempt(
  format: ExecutorFormat,
  prompt: string,
  options: { cwd?: string; acceptance?: Acceptance; model?: string; timeoutS?: number } & Partial<AttemptRunInput> = {},
) {
  const lines: OutputLine[] = [];
  const command = [
    process.execPath,
    FAKE_CLI,
    ...(options.model === undefined ? [] : ["-m", options.model]),
    "{prompt}",
  ];
  const running = runAttempt({
    executor: { command, format, timeout_s: options.timeoutS ?? 30 },
    prompt,
    cwd: options.cwd ?? gitRepo(),
    ...(options.acceptance === undefined ? {} : { acceptance: options.acceptance }),
    onLine: (line) => lines.push(line),
    killGraceMs: 500,
    drainMs: 200,
  });
  const texts = (stream: OutputLine["stream"]): string[] =>
    lines.filter((line) => line.stream === stream).map((line) => line.text);
  return { running, lines, texts };
}

function processesWith(marker: string): string[] {
  return execFileSync("ps", ["-A", "-o", "pid=,stat=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(marker) && !/^\s*\d+\s+Z/.test(line));
}

describe("runAttempt with an output format", () => {
  it("reports claude's model, session, tokens and cost, shows readable lines and a summary", async () => {
    const { running, texts } = attempt("claude-stream-json", "play=claude-success.jsonl pause=5");
    const result = await running.done;
    expect(result).toMatchObject({
      exit_code: 0,
      model: "claude-sonnet-4-5-20250929",
      session_id: "3f6c2a9e-81d4-4c2b-9a57-0e4b7d1c5f23",
      tokens: { input: 54695, output: 337 },
      cost_usd: 0.08538075,
      changed_files: [],
    });
    expect(result.failure_class).toBeUndefined();
    expect(result.output).toMatch(/^Fixed the bug/);
    expect(texts("stdout")).toContain("● Bash(npm test)");
    expect(texts("stdout").some((text) => text.includes('"type"'))).toBe(false);
    expect(texts("system")).toContain(
      "[agent] claude-sonnet-4-5-20250929 · 54,695 tokens in, 337 out · $0.0854 · session 3f6c2a9e-81d4-4c2b-9a57-0e4b7d1c5f23",
    );
  });

  it("takes codex's model from its -m and prices the tokens from the rates", async () => {
    const { running, texts } = attempt("codex-jsonl", "play=codex-success.jsonl pause=5", { model: "gpt-5.3-codex" });
    const result = await running.done;
    expect(result).toMatchObject({
      model: "gpt-5.3-codex",
      session_id: "019a7c2e-4b1f-7d03-9e52-3c8f1a6b2d40",
      tokens: { input: 48213, output: 1287 },
    });
    expect(result.cost_usd).toBeCloseTo((6229 * 1.75 + 41984 * 0.175 + 1287 * 14) / 1e6, 9);
    expect(texts("system").some((text) => text.includes("(from rates)"))).toBe(true);
  });

  it("reads an event line far longer than the wire's line limit whole, and cuts only what it shows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mesh-long-line-"));
    const file = join(dir, "long.jsonl");
    const lines = transcriptLines("claude-success.jsonl");
    const bigResult = Array.from({ length: 3000 }, (_, i) => `line ${i} of a large file`).join("\n");
    const toolResult = {
      type: "user",
      message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: bigResult }] },
      session_id: "s",
    };
    const assistant = {
      type: "assistant",
      message: { content: [{ type: "text", text: "x".repeat(10_000) }] },
      session_id: "s",
    };
    writeFileSync(file, [lines[0], JSON.stringify(toolResult), JSON.stringify(assistant), lines.at(-1)].join("\n"));
    const { running, texts } = attempt("claude-stream-json", `play=${file} pause=1`);
    const result = await running.done;
    expect(result.failure_class).toBeUndefined();
    expect(texts("stdout")).toContain("  └ line 0 of a large file");
    expect(
      texts("stdout")
        .filter((text) => text.startsWith("xxxx"))
        .map((text) => text.length),
    ).toEqual([MAX_LINE_CHARS, MAX_LINE_CHARS, 10_000 - 2 * MAX_LINE_CHARS]);
    expect(texts("stdout").some((text) => text.includes('"type"'))).toBe(false);
  });

  it("fails a run that exits 0 without its final event", async () => {
    const result = await attempt("claude-stream-json", "play=claude-success.jsonl cut=1 pause=1").running.done;
    expect(result).toMatchObject({
      exit_code: 0,
      failure_class: "unknown",
      error: { message: expect.stringContaining("without the final claude-stream-json event") },
    });
  });
});

describe("runAttempt with acceptance", () => {
  it("accepts a run whose changes are allowed and whose command passes, streaming the command's output", async () => {
    const { running, texts } = attempt("text", "write=src/new.ts say=edited", {
      acceptance: { command: "test -f src/new.ts && echo checked", allowed_paths: ["src/**"] },
    });
    const result = await running.done;
    expect(result.failure_class).toBeUndefined();
    expect(result.changed_files).toEqual(["src/new.ts"]);
    expect(texts("stdout")).toEqual(["edited", "checked"]);
    expect(texts("system")).toContain("[agent] acceptance: $ test -f src/new.ts && echo checked");
  });

  it("fails as test_fail when the acceptance command fails", async () => {
    const { running, texts } = attempt("text", "write=src/new.ts", {
      acceptance: { command: "echo '1 test failed' >&2; exit 4", allowed_paths: ["src/**"] },
    });
    const result = await running.done;
    expect(result).toMatchObject({
      exit_code: 0,
      failure_class: "test_fail",
      error: { message: expect.stringContaining("exited with code 4") },
      changed_files: ["src/new.ts"],
    });
    expect(texts("stderr")).toContain("1 test failed");
  });

  it("fails as wrong_file for a change outside allowed_paths, not blaming files dirty before, without running the command", async () => {
    const { running, texts } = attempt("text", "write=src/ok.ts write=package.json", {
      acceptance: { command: "echo should-not-run", allowed_paths: ["src/**"] },
    });
    const result = await running.done;
    expect(result).toMatchObject({
      failure_class: "wrong_file",
      changed_files: ["package.json", "src/ok.ts"],
      error: { message: expect.stringContaining("package.json") },
    });
    expect(texts("stdout")).not.toContain("should-not-run");
  });

  it("does not run acceptance after a failed CLI", async () => {
    const { running, texts } = attempt("text", "exit=3", { acceptance: { command: "echo should-not-run" } });
    expect((await running.done).failure_class).toBe("unknown");
    expect(texts("stdout")).not.toContain("should-not-run");
  });

  it("stops the acceptance command's whole tree when the attempt is cancelled", async () => {
    const marker = `acceptance-marker-${process.pid}-${Date.now()}`;
    const { running } = attempt("text", "say=done", {
      acceptance: { command: `${process.execPath} -e "setInterval(() => {}, 1000)" ${marker} & sleep 60 # ${marker}` },
    });
    const deadline = Date.now() + 10_000;
    while (processesWith(marker).length < 2 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
    expect(processesWith(marker).length).toBeGreaterThanOrEqual(2);
    running.stop("cancelled", "cancelled by test");
    const result = await running.done;
    expect(result.failure_class).toBe("cancelled");
    await new Promise((done) => setTimeout(done, 300));
    expect(processesWith(marker)).toEqual([]);
  });
});
