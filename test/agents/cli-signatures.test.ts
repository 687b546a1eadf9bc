// What the real CLIs printed with no credentials and no network (test/fixtures/cli/real/), read by
// the agent's own parsers and classifier: each ends in an infrastructure class with a first line
// that says what to fix, never `unknown` (which would escalate; docs/cli-formats.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { MEMORY_SIGNATURES, matchSignature } from "../../agents/runtime/cli-signatures.ts";
import { classifyAttempt } from "../../agents/runtime/failure-classes.ts";
import { parserFor } from "../../agents/runtime/formats/index.ts";
import { NetworkWatch } from "../../agents/runtime/network-watch.ts";
import type { ExecutorFormat } from "../../protocol/index.ts";

const REAL = join(import.meta.dirname, "../fixtures/cli/real");
const read = (file: string): string => readFileSync(join(REAL, file), "utf8");
const lines = (text: string): string[] => text.split("\n").filter((line) => line !== "");

/** Feeds a recorded run through its format's parser and the classifier, as the runner does. */
function classify(program: string, format: ExecutorFormat, stdout: string, stderr: string, exitCode: number | null) {
  const parser = parserFor(format);
  const shown = lines(stdout).flatMap((line) => parser.stdout(line));
  for (const line of lines(stderr)) parser.stderr(line);
  const { report } = parser.end();
  return {
    shown,
    verdict: classifyAttempt({ program, format, exitCode, signal: null, report, stderr, stdout: shown.join("\n") }),
  };
}

describe("the real CLIs' failures, classified", () => {
  it("claude 2.1.197 refusing bypassPermissions as root: syntax_error, saying to set IS_SANDBOX=1", () => {
    const { verdict } = classify("claude", "claude-stream-json", "", read("claude-2.1.197-root.stderr.txt"), 1);
    expect(verdict.failure_class).toBe("syntax_error");
    expect(verdict.message).toContain('"IS_SANDBOX": "1"');
  });

  it("claude 2.1.197 not logged in: auth_failure, shown as an error (not '✗ success: …')", () => {
    const { verdict, shown } = classify(
      "claude",
      "claude-stream-json",
      read("claude-2.1.197-not-logged-in.jsonl"),
      "",
      1,
    );
    expect(verdict.failure_class).toBe("auth_failure");
    expect(verdict.message).toMatch(/Not logged in .* fix its credentials/);
    expect(shown.join("\n")).not.toContain("success: Not logged in");
    expect(shown.join("\n")).toContain("error: Not logged in");
  });

  it("codex 0.171.0 offline: its 'waiting for network' line stops the run at once, as network_error", () => {
    const stop = vi.fn();
    const watch = new NetworkWatch("codex", 120_000, stop);
    for (const line of [
      ...lines(read("codex-0.171.0-offline.stderr.txt")),
      ...lines(read("codex-0.171.0-offline.jsonl")),
    ])
      watch.watch(line);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(stop.mock.calls[0]?.[0]).toMatch(
      /^codex is waiting for the network \(.*waiting for network.*\); stopped at once: .*fix its network/,
    );
    const verdict = classifyAttempt({
      program: "codex",
      format: "codex-jsonl",
      exitCode: null,
      signal: "SIGTERM",
      stopped: { as: "network_error", note: String(stop.mock.calls[0]?.[0]) },
      report: { finished: false, success: false, usage: [] },
      stderr: "",
      stdout: "",
    });
    expect(verdict.failure_class).toBe("network_error");
  });

  it("opencode 1.18.33 offline: its log (--print-logs) names the cause: network_error, not UnknownError", () => {
    const { verdict } = classify(
      "opencode",
      "opencode-json",
      read("opencode-1.18.33-offline.jsonl"),
      read("opencode-1.18.33-offline.stderr.txt"),
      1,
    );
    expect(verdict.failure_class).toBe("network_error");
    expect(verdict.message).toContain("models.dev");
  });

  it("gemini 0.61.0 without an auth method (exit 41): auth_failure", () => {
    const { verdict } = classify("gemini", "gemini-stream-json", "", read("gemini-0.61.0-no-auth.stderr.txt"), 41);
    expect(verdict.failure_class).toBe("auth_failure");
    expect(verdict.message).toContain("Please set an Auth method");
  });
});

describe("out-of-memory words (docs/faults.md)", () => {
  it.each([
    ["tail: memory exhausted", "GNU coreutils"],
    ["sort: memory exhausted", "GNU coreutils"],
    ["grep: memory exhausted", "GNU coreutils"],
    ["parse.y:12.3: memory exhausted", "bison"],
    ["fatal: unable to create thread: Cannot allocate memory", "glibc"],
    ["Error: spawn ENOMEM", "node"],
    ["terminate called after throwing an instance of 'std::bad_alloc'", "C++"],
    ["FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "node"],
  ])("knows %s, with where it was seen and what to do", (line, seenIn) => {
    const found = matchSignature(MEMORY_SIGNATURES, `some earlier line\n${line}\nexit`);
    expect(found?.line).toBe(line);
    expect(found?.signature.seenIn).toContain(seenIn);
    expect(found?.signature.advice).toContain("--memory-mb");
  });

  it("does not take a file name or a word about memory for running out of it", () => {
    expect(
      matchSignature(MEMORY_SIGNATURES, "wrote src/memory.ts\nmemory usage: 120 MB\nENOMEMORY_FLAG=1"),
    ).toBeUndefined();
  });
});

describe("NetworkWatch", () => {
  it("stops a run that prints only retries for stall_s, and lets one that makes progress go on", () => {
    const stop = vi.fn();
    const watch = new NetworkWatch("cli", 1000, stop);
    const t0 = Date.now();
    watch.watch("Retrying in 2s (attempt 1)", t0);
    watch.check(t0 + 500);
    watch.watch("wrote src/a.ts", t0 + 600);
    watch.watch("Reconnecting... 1/5", t0 + 700);
    watch.check(t0 + 1500);
    expect(stop).not.toHaveBeenCalled();
    watch.check(t0 + 1700);
    expect(stop).toHaveBeenCalledWith(
      expect.stringContaining("printed only reconnect and retry lines for 1 s (stall_s)"),
    );
    watch.check(t0 + 5000);
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it("never stops a run that prints no retry at all, however long", () => {
    const stop = vi.fn();
    const watch = new NetworkWatch("cli", 1000, stop);
    watch.watch("thinking…", 0);
    watch.check(10_000_000_000_000);
    watch.end();
    expect(stop).not.toHaveBeenCalled();
  });
});
