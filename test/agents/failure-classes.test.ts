import { describe, expect, it } from "vitest";
import { type AttemptFacts, classifyAttempt } from "../../agents/runtime/failure-classes.ts";
import type { RunReport } from "../../agents/runtime/formats/run-report.ts";
import { transcriptLines } from "./formats/feed.ts";

const ok: RunReport = { finished: true, success: true, usage: [], result: "done" };
const failedReport = (error: string, extra: Partial<RunReport> = {}): RunReport => ({
  finished: true,
  success: false,
  usage: [],
  error,
  ...extra,
});

function facts(overrides: Partial<AttemptFacts> = {}): AttemptFacts {
  return {
    program: "claude",
    format: "claude-stream-json",
    exitCode: 0,
    signal: null,
    report: ok,
    stderr: "",
    stdout: "",
    ...overrides,
  };
}

describe("classifyAttempt", () => {
  it("gives no class to a run that succeeded and passed acceptance", () => {
    expect(classifyAttempt(facts())).toEqual({});
    expect(
      classifyAttempt(
        facts({
          acceptance: {
            outside: [],
            command: { line: "npm test", exitCode: 0, signal: null, timedOut: false, tail: "" },
          },
        }),
      ),
    ).toEqual({});
  });

  it.each([
    [
      "cancelled",
      { stopped: { as: "cancelled" as const, note: "cancelled (by test)" }, exitCode: null, signal: "SIGTERM" },
    ],
    ["timeout", { stopped: { as: "timeout" as const, note: "timed out after 2s" }, exitCode: 143 }],
    ["agent_lost", { stopped: { as: "agent_lost" as const, note: "agent stopping" }, signal: "SIGTERM" }],
    [
      "resource_limit",
      {
        stopped: {
          as: "resource_limit" as const,
          note: "its processes use 300 MB, over the agent's memory limit of 256 MB (--memory-mb)",
        },
        signal: "SIGKILL",
      },
    ],
    ["unknown", { stopped: { as: "unknown" as const, note: "stopped for another reason" }, signal: "SIGKILL" }],
  ])("takes the agent's own stop as %s, whatever the exit says", (failure, overrides) => {
    expect(
      classifyAttempt(facts({ ...overrides, report: failedReport("Invalid API key · Fix external API key") }))
        .failure_class,
    ).toBe(failure);
  });

  it("classes a run that never started as syntax_error", () => {
    expect(classifyAttempt(facts({ notStarted: "could not start 'claude' (ENOENT)", exitCode: null }))).toEqual({
      failure_class: "syntax_error",
      message: "could not start 'claude' (ENOENT)",
    });
  });

  it.each([
    [
      "claude stream-json 401",
      facts({ exitCode: 1, report: failedReport("Invalid API key · Fix external API key", { errorStatus: 401 }) }),
    ],
    [
      "claude text mode",
      facts({ format: "text", exitCode: 1, report: ok, stdout: transcriptLines("claude-auth-failure.txt").join("\n") }),
    ],
    [
      "claude text mode exiting 0",
      facts({ format: "text", exitCode: 0, report: ok, stdout: "Invalid API key · Fix external API key" }),
    ],
    ["claude not logged in", facts({ exitCode: 1, report: failedReport("Not logged in · Please run /login") })],
    [
      "codex turn.failed 401",
      facts({
        program: "codex",
        format: "codex-jsonl",
        exitCode: 1,
        report: failedReport(JSON.parse(transcriptLines("codex-failure.jsonl")[3] ?? "{}").error.message),
      }),
    ],
    [
      "gemini exit 41",
      facts({
        program: "gemini",
        format: "gemini-json",
        exitCode: 41,
        report: failedReport("Please set an Auth method in your settings", { errorCode: 41 }),
      }),
    ],
    [
      "gemini exit 41 without JSON",
      facts({
        program: "gemini",
        format: "gemini-stream-json",
        exitCode: 41,
        report: { finished: false, success: false, usage: [] },
        stderr: "some text",
      }),
    ],
    [
      "gemini bad key",
      facts({
        program: "gemini",
        format: "gemini-stream-json",
        exitCode: 1,
        report: failedReport("[API Error: API key not valid. Please pass a valid API key.]"),
      }),
    ],
    [
      "opencode 401",
      facts({
        program: "opencode",
        format: "opencode-json",
        exitCode: 1,
        report: failedReport("APIError: something", { errorStatus: 401 }),
      }),
    ],
    [
      "deepseek wording",
      facts({
        program: "opencode",
        format: "opencode-json",
        exitCode: 0,
        report: failedReport("APIError: Authentication Fails, Your api key: ****abcd is invalid"),
      }),
    ],
  ])("classes an auth failure as auth_failure: %s", (_name, input) => {
    const verdict = classifyAttempt(input);
    expect(verdict.failure_class).toBe("auth_failure");
    expect(verdict.message).toContain("credentials");
  });

  it("does not take a 401 in a tool's output for an auth failure", () => {
    const verdict = classifyAttempt(
      facts({ exitCode: 1, report: failedReport("tests failed"), stdout: "  └ expected 401 Unauthorized, got 200" }),
    );
    expect(verdict.failure_class).toBe("unknown");
  });

  it.each([
    [
      "clap exit 2",
      facts({
        program: "codex",
        format: "codex-jsonl",
        exitCode: 2,
        report: { finished: false, success: false, usage: [] },
        stderr: "error: unexpected argument '--bogus' found",
      }),
    ],
    [
      "claude needs --verbose",
      facts({
        exitCode: 1,
        report: { finished: false, success: false, usage: [] },
        stderr: "Error: When using --print, --output-format=stream-json requires --verbose",
      }),
    ],
    [
      "codex outside git",
      facts({
        program: "codex",
        format: "codex-jsonl",
        exitCode: 1,
        report: { finished: false, success: false, usage: [] },
        stderr: "Not inside a trusted directory and --skip-git-repo-check was not specified.",
      }),
    ],
    [
      "gemini untrusted folder",
      facts({
        program: "gemini",
        format: "gemini-json",
        exitCode: 55,
        report: { finished: false, success: false, usage: [] },
      }),
    ],
    ["command not found in a wrapper", facts({ format: "text", exitCode: 127, stderr: "sh: 1: claude: not found" })],
  ])("classes a bad invocation as syntax_error: %s", (_name, input) => {
    expect(classifyAttempt(input).failure_class).toBe("syntax_error");
  });

  const limits = { memoryMb: 256, maxProcs: 30, cpuS: 60 };
  it.each([
    [
      "the CPU limit (SIGXCPU)",
      facts({ signal: "SIGXCPU", exitCode: null, limits }),
      "used up its CPU time limit",
      "--cpu-s 60",
    ],
    [
      "the memory limit (allocation refused)",
      facts({ format: "text", exitCode: 1, stderr: "RangeError: Array buffer allocation failed", limits }),
      "ran out of memory",
      "--memory-mb 256",
    ],
    [
      "the memory limit (V8 heap)",
      facts({
        exitCode: null,
        signal: "SIGABRT",
        report: { finished: false, success: false, usage: [] },
        stderr: "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        limits,
      }),
      "ran out of memory",
      "--memory-mb 256",
    ],
    [
      "the kernel's OOM killer",
      facts({
        exitCode: null,
        signal: "SIGKILL",
        oomKilled: true,
        report: { finished: false, success: false, usage: [] },
        limits,
      }),
      "out-of-memory killer",
      "--memory-mb 256",
    ],
    [
      "the process limit",
      facts({ format: "text", exitCode: 1, stderr: "could not start process 21: spawn sleep EAGAIN", limits }),
      "hit the process limit",
      "--max-procs 30",
    ],
  ])("classes a run stopped by %s as resource_limit, naming the limit", (_name, input, what, limit) => {
    const verdict = classifyAttempt(input);
    expect(verdict.failure_class).toBe("resource_limit");
    expect(verdict.message).toContain(what);
    expect(verdict.message).toContain(limit);
  });

  // Out-of-memory wordings (docs/faults.md): each is resource_limit, never unknown (which climbs paid tiers).
  it.each([
    ["GNU tail", "tail: memory exhausted", 1],
    ["GNU sort, whose exit 2 is not a usage error here", "sort: memory exhausted", 2],
    ["bison", "input.y: memory exhausted", 2],
    ["glibc strerror", "fatal: Out of memory? mmap failed: Cannot allocate memory", 128],
    ["node's spawn", "Error: spawn ENOMEM", 1],
    [
      "a C++ program",
      "terminate called after throwing an instance of 'std::bad_alloc'\n  what():  std::bad_alloc",
      134,
    ],
    [
      "node's heap",
      "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory",
      134,
    ],
  ])("classes %s's out-of-memory words as resource_limit", (_name, stderr, exitCode) => {
    const verdict = classifyAttempt(facts({ program: "sh", format: "text", exitCode, stderr, limits }));
    expect(verdict.failure_class).toBe("resource_limit");
    expect(verdict.message).toContain("ran out of memory");
    expect(verdict.message).toContain("--memory-mb 256");
  });

  it("classes exit 137 (a SIGKILLed child reported by a shell) as resource_limit under the agent's memory limit only", () => {
    const killed = facts({ program: "sh", format: "text", exitCode: 137, limits });
    expect(classifyAttempt(killed)).toEqual({
      failure_class: "resource_limit",
      message: expect.stringContaining("exited with code 137"),
    });
    expect(classifyAttempt({ ...killed, limits: { memoryMb: 0, maxProcs: 0, cpuS: 0 } }).failure_class).toBe("unknown");
  });

  it("does not take memory words in a run that succeeded for a failure", () => {
    expect(
      classifyAttempt(facts({ format: "text", exitCode: 0, stderr: "warning: memory exhausted once, retried" }))
        .failure_class,
    ).toBeUndefined();
  });

  it("says when a limit the run hit was not the agent's", () => {
    expect(classifyAttempt(facts({ signal: "SIGXCPU", exitCode: null })).message).toContain(
      "--cpu-s is off here, so the machine's own limit was hit",
    );
  });

  it("does not take a SIGKILL for a memory kill unless the kernel's OOM killer killed meanwhile", () => {
    expect(
      classifyAttempt(facts({ format: "text", exitCode: null, signal: "SIGKILL", oomKilled: false })).failure_class,
    ).toBe("unknown");
  });

  it.each([
    ["a non-zero exit", facts({ format: "text", exitCode: 3 }), "exited with code 3"],
    ["a signal", facts({ format: "text", exitCode: null, signal: "SIGSEGV" }), "killed by SIGSEGV"],
    [
      "a CLI-reported failure with exit 0",
      facts({ report: failedReport("Reached maximum number of turns (2)") }),
      "Reached maximum number of turns (2)",
    ],
    [
      "output without its final event",
      facts({ report: { finished: false, success: false, usage: [] } }),
      "without the final claude-stream-json event",
    ],
  ])("classes %s as unknown", (_name, input, message) => {
    expect(classifyAttempt(input)).toEqual({ failure_class: "unknown", message: expect.stringContaining(message) });
  });

  it("classes a change outside allowed_paths as wrong_file, before the command's result", () => {
    const verdict = classifyAttempt(
      facts({
        acceptance: {
          outside: ["package.json"],
          command: { line: "npm test", exitCode: 1, signal: null, timedOut: false, tail: "" },
        },
      }),
    );
    expect(verdict).toEqual({ failure_class: "wrong_file", message: expect.stringContaining("package.json") });
  });

  it.each([
    [{ exitCode: 1, signal: null, timedOut: false }, "exited with code 1"],
    [{ exitCode: null, signal: "SIGKILL", timedOut: false }, "killed by SIGKILL"],
    [{ exitCode: null, signal: "SIGTERM", timedOut: true }, "did not finish in time"],
  ])("classes a failed acceptance command as test_fail: %j", (end, message) => {
    const verdict = classifyAttempt(
      facts({ acceptance: { outside: [], command: { line: "npm test", tail: "", ...end } } }),
    );
    expect(verdict).toEqual({ failure_class: "test_fail", message: expect.stringContaining(message) });
  });
});
