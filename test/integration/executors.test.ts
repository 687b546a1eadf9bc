// Executors end to end: real agents run a fake CLI (test/fixtures/cli/fake-cli.mjs) that replays the
// sample transcripts of every output format; tasks go through the real mesh, and the finished task
// says what the agent read: tokens, cost, model, session, changed files and the failure class.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Acceptance, AgentRecord, Attempt, ExecutorFormat, LogLine, TaskView } from "../../protocol/index.ts";
import { gitRepo } from "../agents/git-repo.ts";
import { executorsFor, FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const FAKE_CLI = join(FIXTURES, "cli/fake-cli.mjs");
const KIND = process.platform === "darwin" ? "mac" : "vm";
/** The limited agent's executors time out quickly: its timeout test waits for it. */
const LIMITED_TIMEOUT_S = 4;

const fake = (format: ExecutorFormat, model?: string, timeout_s = 60) => ({
  command: [process.execPath, FAKE_CLI, ...(model === undefined ? [] : ["-m", model]), "{prompt}"],
  format,
  timeout_s,
});

let mesh: Mesh;
let formats: TestAgent;
let limited: TestAgent;

async function agentOnline(name: string): Promise<boolean> {
  const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
  return body.agents.some((agent) => agent.name === name && agent.state === "online");
}

async function create(body: {
  instruction: string;
  executor: string;
  agent?: string;
  cwd?: string;
  acceptance?: Acceptance;
}): Promise<string> {
  const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { cwd: gitRepo(), ...body } });
  expect(created.status).toBe(201);
  return created.body.task_id;
}

async function runTask(body: Parameters<typeof create>[0]): Promise<TaskView> {
  return mesh.finished(await create(body));
}

/**
 * The task once its first attempt has ended. A quality failure ends the task here; once the mesh
 * escalates, the task goes on to the next tier, so failures are checked on the attempt and its log.
 */
async function firstAttemptEnded(
  body: Parameters<typeof create>[0],
): Promise<{ task: TaskView; attempt: Attempt; log: string[] }> {
  const taskId = await create(body);
  const task = await waitFor(
    `task ${taskId}'s first attempt to end`,
    async () => {
      const current = await mesh.task(taskId);
      return current.attempts[0]?.ended_at !== undefined ? current : null;
    },
    60_000,
  );
  const attempt = task.attempts[0];
  if (attempt === undefined) throw new Error("no attempt");
  return { task, attempt, log: await logText(taskId) };
}

async function logText(taskId: string): Promise<string[]> {
  const { body } = await mesh.api<{ lines: LogLine[] }>(`/api/tasks/${taskId}/logs?limit=1000`);
  return body.lines.map((line) => line.text);
}

/** Live processes whose command line holds the marker (zombies awaiting their reaper do not count). */
function processesWith(marker: string): string[] {
  return execFileSync("ps", ["-A", "-o", "pid=,stat=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(marker) && !/^\s*\d+\s+Z/.test(line));
}

beforeAll(async () => {
  mesh = await startMesh();
  formats = await startAgent(
    mesh,
    "formats-agent",
    {
      executors: {
        deepseek: fake("opencode-json", "deepseek/deepseek-v4-flash"),
        "gemini-flash": fake("gemini-stream-json", "gemini-2.5-flash"),
        "gemini-pro": fake("gemini-json", "gemini-2.5-pro"),
        codex: fake("codex-jsonl", "gpt-5.3-codex"),
        sonnet: fake("claude-stream-json"),
        opus: fake("claude-json"),
      },
    },
    { kind: KIND, capacity: 6 },
  );
  limited = await startAgent(
    mesh,
    "limited-agent",
    executorsFor([process.execPath, FAKE_CLI, "{prompt}"], ["deepseek", "sonnet", "opus"], LIMITED_TIMEOUT_S),
    { kind: KIND, capacity: 4, args: ["--memory-mb", "256"] },
  );
});

afterAll(async () => {
  await formats?.stop();
  await limited?.stop();
  await mesh?.stop();
});

describe("every output format through the real agent", () => {
  const sonnet = {
    model: "claude-sonnet-4-5-20250929",
    session_id: "3f6c2a9e-81d4-4c2b-9a57-0e4b7d1c5f23",
    tokens: { input: 54695, output: 337 },
    cost_usd: 0.08538075,
  };
  const gemini = {
    model: "gemini-2.5-flash",
    session_id: "6f0d2c71-8a4e-4b9b-9c1e-2d7f5a3b8e10",
    tokens: { input: 24315, output: 888 },
  };
  it.each([
    ["sonnet", "claude-stream-json", "play=claude-success.jsonl", sonnet, 0.08538075, /^Fixed the bug/],
    ["opus", "claude-json", "play=claude-result.json", sonnet, 0.08538075, /^Fixed the bug/],
    [
      "codex",
      "codex-jsonl",
      "play=codex-success.jsonl",
      {
        model: "gpt-5.3-codex",
        session_id: "019a7c2e-4b1f-7d03-9e52-3c8f1a6b2d40",
        tokens: { input: 48213, output: 1287 },
      },
      (6229 * 1.75 + 41984 * 0.175 + 1287 * 14) / 1e6,
      /^Fixed `add\(\)`/,
    ],
    [
      "gemini-pro",
      "gemini-json",
      "play=gemini-success.json pause=5",
      gemini,
      (9871 * 0.3 + 14444 * 0.03 + 888 * 2.5) / 1e6,
      /^Fixed the failing test/,
    ],
    [
      "gemini-flash",
      "gemini-stream-json",
      "play=gemini-stream-success.jsonl",
      gemini,
      (9871 * 0.3 + 14444 * 0.03 + 888 * 2.5) / 1e6,
      /^Fixed the failing test/,
    ],
    [
      "deepseek",
      "opencode-json",
      "play=opencode-deepseek-success.jsonl",
      {
        model: "deepseek/deepseek-v4-flash",
        session_id: "ses_52a9c3e1dffeK7mQx2VbN8rTzP",
        tokens: { input: 40245, output: 286 },
      },
      0.000709324,
      /^Fixed `add\(\)`/,
    ],
  ] as const)(
    "%s (%s): tokens, cost, model, session and a success",
    async (tier, _format, prompt, expected, cost, output) => {
      const task = await runTask({ instruction: prompt, executor: tier, agent: formats.name });
      expect(task.status).toBe("succeeded");
      const attempt = task.attempts[0];
      expect(attempt).toMatchObject({ status: "succeeded", exit_code: 0, ...expected, changed_files: [] });
      expect(attempt?.failure_class).toBeUndefined();
      expect(attempt?.cost_usd).toBeCloseTo(cost, 9);
      expect(task.cost_usd).toBeCloseTo(cost, 9);
      expect(task.tokens).toEqual(expected.tokens);
      expect(task.output).toMatch(output);
      const log = await logText(task.task_id);
      expect(log.some((line) => line.includes('"type"'))).toBe(false);
      expect(log.some((line) => line.startsWith("[agent] ") && line.includes(expected.session_id))).toBe(true);
    },
  );

  it("text: the tail of stdout as output, no tokens or cost", async () => {
    const task = await runTask({ instruction: "say=hello say=done", executor: "sonnet", agent: limited.name });
    expect(task).toMatchObject({
      status: "succeeded",
      output: "hello\ndone",
      tokens: { input: 0, output: 0 },
      cost_usd: 0,
    });
    expect(task.attempts[0]?.model).toBeUndefined();
  });

  it("a CLI-reported failure fails as unknown, its tokens and cost still counted", async () => {
    const { attempt, log } = await firstAttemptEnded({
      instruction: "play=claude-error.jsonl exit=1",
      executor: "sonnet",
      agent: formats.name,
    });
    expect(attempt).toMatchObject({
      status: "failed",
      failure_class: "unknown",
      exit_code: 1,
      tokens: { input: 36192, output: 169 },
      cost_usd: 0.076527,
    });
    expect(log).toContain("[agent] unknown: node exited with code 1: Reached maximum number of turns (2)");
  });

  it("a run that exits 0 without its final event is a failure, not a success", async () => {
    const { attempt } = await firstAttemptEnded({
      instruction: "play=codex-success.jsonl cut=1",
      executor: "codex",
      agent: formats.name,
    });
    expect(attempt).toMatchObject({ status: "failed", exit_code: 0, failure_class: "unknown" });
  });
});

describe("classification", () => {
  it.each([
    ["codex", "formats-agent", "play=codex-failure.jsonl exit=1"],
    ["gemini-pro", "formats-agent", "stderr=gemini-error.json exit=41"],
    ["sonnet", "formats-agent", "play=claude-auth-failure.jsonl exit=1"],
    ["deepseek", "formats-agent", "play=opencode-auth-failure.jsonl exit=1"],
    ["opus", "limited-agent", "play=claude-auth-failure.txt exit=1"],
  ])("an auth failure (%s on %s, %s) is auth_failure", async (tier, agent, prompt) => {
    const task = await runTask({ instruction: prompt, executor: tier, agent });
    expect(task).toMatchObject({
      status: "failed",
      error: { code: "auth_failure", message: expect.stringContaining("credentials") },
    });
    expect(task.attempts[0]?.failure_class).toBe("auth_failure");
  });

  it("a hanging CLI is killed at its timeout: timeout", async () => {
    const started = Date.now();
    const task = await runTask({ instruction: "say=thinking hang", executor: "deepseek", agent: limited.name });
    expect(task).toMatchObject({
      status: "failed",
      error: { code: "timeout", message: expect.stringContaining(`timed out after ${LIMITED_TIMEOUT_S}s`) },
    });
    expect(task.attempts[0]).toMatchObject({ failure_class: "timeout", signal: "SIGTERM" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMITED_TIMEOUT_S * 1000);
  });

  it("an acceptance command that fails: test_fail, its output in the log", async () => {
    const { attempt, log } = await firstAttemptEnded({
      instruction: "write=src/feature.ts say=implemented",
      executor: "sonnet",
      agent: limited.name,
      acceptance: { command: "echo 'FAIL test/feature.test.ts > adds' >&2; exit 1", allowed_paths: ["src/**"] },
    });
    expect(attempt).toMatchObject({
      status: "failed",
      failure_class: "test_fail",
      exit_code: 0,
      changed_files: ["src/feature.ts"],
    });
    expect(log).toContain("FAIL test/feature.test.ts > adds");
    expect(log).toContain(
      "[agent] test_fail: the acceptance command `echo 'FAIL test/feature.test.ts > adds' >&2; exit 1` exited with code 1",
    );
  });

  it("a change outside allowed_paths: wrong_file, files dirty before the run not blamed", async () => {
    const { attempt, log } = await firstAttemptEnded({
      instruction: "write=src/ok.ts write=config/settings.json",
      executor: "sonnet",
      agent: limited.name,
      acceptance: { command: "true", allowed_paths: ["src/**"] },
    });
    expect(attempt).toMatchObject({
      status: "failed",
      failure_class: "wrong_file",
      changed_files: ["config/settings.json", "src/ok.ts"],
    });
    expect(log.some((line) => line.startsWith("[agent] wrong_file:") && line.includes("config/settings.json"))).toBe(
      true,
    );
  });

  it("a run whose changes are allowed and whose command passes succeeds, with its changed files", async () => {
    const task = await runTask({
      instruction: "play=claude-success.jsonl write=src/math.js",
      executor: "sonnet",
      agent: formats.name,
      acceptance: { command: "test -f src/math.js && echo accepted", allowed_paths: ["src/**"] },
    });
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]).toMatchObject({ changed_files: ["src/math.js"], cost_usd: 0.08538075 });
    expect(await logText(task.task_id)).toContain("accepted");
  });
});

describe("supervision", () => {
  it("after cancel no process of the task is left", async () => {
    const marker = `cancel-marker-${Date.now()}`;
    const taskId = await create({
      instruction: `play=claude-success.jsonl cut=1 spawn=${marker} hang`,
      executor: "sonnet",
      agent: formats.name,
    });
    await waitFor("the CLI and its helper to run", () => processesWith(marker).length >= 2, 20_000);
    const cancelled = await mesh.api<TaskView>(`/api/tasks/${taskId}/cancel`, {
      method: "POST",
      body: { reason: "test" },
    });
    expect(cancelled.body.status).toBe("cancelled");
    await waitFor("every process of the task to be gone", () => processesWith(marker).length === 0, 15_000);
    const task = await waitFor("the attempt to be recorded", async () => {
      const current = await mesh.task(taskId);
      return current.attempts[0]?.ended_at !== undefined ? current : null;
    });
    expect(task.attempts[0]?.status).toBe("cancelled");
  });

  const linuxLimiter =
    existsSync("/run/systemd/system") || spawnSync("prlimit", ["--version"], { stdio: "ignore" }).status === 0;
  const memoryLimited = KIND === "mac" || linuxLimiter;
  if (!memoryLimited)
    console.warn(
      "[skip] memory hog test: this machine has neither systemd nor prlimit (util-linux), so the agent cannot limit memory",
    );
  it.skipIf(!memoryLimited)(
    "a memory hog is stopped by its limit as resource_limit: the task ends without climbing tiers, and the agent lives on",
    async () => {
      // deepseek is the lowest tier and the agent serves two above it: a quality failure would climb.
      const task = await runTask({ instruction: "hog=2048 pause=20", executor: "deepseek", agent: limited.name });
      expect(task.status).toBe("failed");
      expect(task.attempts.map((a) => [a.tier, a.status, a.failure_class])).toEqual([
        ["deepseek", "failed", "resource_limit"],
      ]);
      expect(task.error?.message).toContain("--memory-mb 256");
      const log = await logText(task.task_id);
      expect(log.some((line) => line.startsWith("[agent] resource_limit:") && line.includes("memory"))).toBe(true);
      expect(log).not.toContain("allocated 2048 MB without being stopped");
      expect(await agentOnline(limited.name)).toBe(true);
      const after = await runTask({ instruction: "say=still_here", executor: "opus", agent: limited.name });
      expect(after).toMatchObject({ status: "succeeded", output: "still here" });
    },
  );

  const root = process.getuid?.() === 0;
  const nobody = spawnSync("id", ["-u", "nobody"], { stdio: "ignore" }).status === 0;
  const procsWhy = !root
    ? "the tests do not run as root"
    : !nobody
      ? "there is no user 'nobody'"
      : !linuxLimiter && KIND === "vm"
        ? "neither systemd nor prlimit is here"
        : KIND === "mac"
          ? "macOS counts all of a user's processes"
          : undefined;
  if (procsWhy !== undefined)
    console.warn(`[skip] process-limit test: it needs --run-as (root and a spare user) and a limiter, and ${procsWhy}`);
  it.skipIf(procsWhy !== undefined)(
    "a run that starts too many processes under --run-as fails on the process limit; the agent lives on",
    async () => {
      const agent = await startAgent(
        mesh,
        "run-as-agent",
        executorsFor([process.execPath, FAKE_CLI, "{prompt}"], ["sonnet"], 30),
        { kind: KIND, args: ["--run-as", "nobody", "--max-procs", "30"] },
      );
      try {
        const cwd = mkdtempSync(join(tmpdir(), "mesh-run-as-"));
        chmodSync(cwd, 0o777);
        const { attempt, log } = await firstAttemptEnded({
          instruction: "procs=100",
          executor: "sonnet",
          agent: agent.name,
          cwd,
        });
        expect(attempt).toMatchObject({ status: "failed", failure_class: "resource_limit" });
        expect(
          log.some(
            (line) =>
              line.startsWith("[agent] resource_limit:") &&
              line.includes("process limit") &&
              line.includes("--max-procs 30"),
          ),
        ).toBe(true);
        expect(await agentOnline(agent.name)).toBe(true);
      } finally {
        await agent.stop();
      }
    },
  );
});
