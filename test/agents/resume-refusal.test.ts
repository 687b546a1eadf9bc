// A resume the CLI refuses runs again fresh, on the same attempt and cwd, with the full prompt
// (docs/resume.md): the runner against a stand-in that refuses every --resume as claude does.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAttempt } from "../../agents/runtime/attempt-runner.ts";
import { resumeRefusal } from "../../agents/runtime/resume-refusal.ts";
import type { ExecutorSpec, OutputLine } from "../../protocol/index.ts";

const FIXTURE = join(import.meta.dirname, "../fixtures/cli/resume-refusing-cli.mjs");
type Run = { argv: string[]; cwd: string; prompt: string; resumed: string | null };

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mesh-resume-refused-"));
  log = join(dir, "runs.jsonl");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const claudeLike = (command: string[] = [process.execPath, FIXTURE, "-p", "{prompt}"]): ExecutorSpec => ({
  command,
  format: "claude-stream-json",
  timeout_s: 30,
  resume: ["--resume", "{session_id}"],
  env: { RESUME_CLI_LOG: log },
});
const runs = (): Run[] =>
  existsSync(log)
    ? readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Run)
    : [];

describe("a resume the CLI refuses", () => {
  it("runs again fresh in the same cwd with the full prompt, says so in the log, and reports resume_refused", async () => {
    const lines: OutputLine[] = [];
    const sessions: string[] = [];
    const result = await runAttempt({
      executor: claudeLike(),
      prompt: "A person reviewed your work and asks: write=guided.txt",
      resumeSession: "5f0c1d2e-0000-4000-8000-000000000001",
      freshPrompt:
        "fix the bug\n---\nEarlier attempts at this task did not pass.\nGuidance from a person: write=guided.txt",
      cwd: dir,
      onLine: (line) => lines.push(line),
      onSession: (id) => sessions.push(id),
    }).done;
    expect(result).toMatchObject({ exit_code: 0, resume_refused: true, tokens: { input: 20, output: 6 } });
    expect(result.failure_class).toBeUndefined();
    expect(result.session_id).toMatch(/^fresh-\d+$/);
    const [refused, fresh] = runs();
    expect(runs()).toHaveLength(2);
    expect(refused?.argv).toEqual([
      "-p",
      "--resume",
      "5f0c1d2e-0000-4000-8000-000000000001",
      "A person reviewed your work and asks: write=guided.txt",
    ]);
    expect(fresh?.resumed).toBeNull();
    expect(fresh?.prompt).toContain("Guidance from a person: write=guided.txt");
    expect(fresh?.prompt).toContain("Earlier attempts at this task did not pass.");
    expect(fresh?.cwd).toBe(refused?.cwd);
    expect(existsSync(join(dir, "guided.txt"))).toBe(true);
    const system = lines.filter((line) => line.stream === "system").map((line) => line.text);
    expect(
      system.some(
        (text) =>
          text.includes("refused to resume session 5f0c1d2e-0000-4000-8000-000000000001") &&
          text.includes("No conversation found") &&
          text.includes("running it again fresh"),
      ),
    ).toBe(true);
    expect(sessions.at(-1)).toBe(result.session_id);
  });

  it("is not run again without a fresh prompt: the refusal is the attempt's failure", async () => {
    const result = await runAttempt({
      executor: claudeLike(),
      prompt: "continue",
      resumeSession: "gone",
      cwd: dir,
      onLine: () => {},
    }).done;
    expect(result.exit_code).toBe(1);
    expect(result.resume_refused).toBeUndefined();
    expect(runs()).toHaveLength(1);
  });

  it("leaves any other failure of a resumed run alone", async () => {
    const failing = claudeLike([
      process.execPath,
      "-e",
      "require('fs').appendFileSync(process.env.RESUME_CLI_LOG, '{}\\n'); console.error('Invalid API key · Please run /login'); process.exit(1)",
      "--",
      "{prompt}",
    ]);
    const result = await runAttempt({
      executor: failing,
      prompt: "continue",
      resumeSession: "s-1",
      freshPrompt: "the full prompt",
      cwd: dir,
      onLine: () => {},
    }).done;
    expect(result.exit_code).toBe(1);
    expect(result.resume_refused).toBeUndefined();
    expect(runs()).toHaveLength(1);
  });
});

describe("resumeRefusal", () => {
  it("knows what claude, codex and opencode print for a session they do not have", () => {
    const end = (stderr: string, exitCode: number | null = 1) => resumeRefusal({ exitCode, stderr, stdout: "" });
    expect(
      end("No conversation found with session ID: 3f1c2b9e-1111-4222-8333-444455556666")?.signature.seenIn,
    ).toContain("claude 2.1.197");
    expect(
      end(
        'Error: --resume requires a valid session ID or session title when used with --print. Provided value "x" is not a UUID',
      )?.signature.seenIn,
    ).toContain("claude");
    expect(
      end("Error: thread/resume: thread/resume failed: no rollout found for thread id 3f1c2b9e (code -32600)")
        ?.signature.seenIn,
    ).toContain("codex 0.171.0");
    expect(end("\u001b[91m\u001b[1mError: \u001b[0mSession not found")?.signature.seenIn).toContain("opencode 1.18.33");
    expect(
      resumeRefusal({ exitCode: 1, stderr: "", stdout: "", reportError: "No conversation found with session ID: s" }),
    ).toBeDefined();
    expect(end("No conversation found with session ID: s", 0)).toBeUndefined();
    expect(end("Not logged in · Please run /login")).toBeUndefined();
  });
});
