// Resumed CLI sessions (docs/resume.md), end to end inside one agent: a real attempt session with
// the room played in memory, the real worktree keeper on real git repositories, and the fake CLI as
// a real child that speaks claude stream-json for a session and records its arguments.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandFor } from "../../agents/runtime/attempt-command.ts";
import { startAttemptSession } from "../../agents/runtime/attempt-session.ts";
import { RateTable } from "../../agents/runtime/cost-rates.ts";
import { plainSupervisor } from "../../agents/runtime/process-limits.ts";
import { WorktreeKeeper } from "../../agents/runtime/worktree-keeper.ts";
import { worktreePath } from "../../agents/runtime/worktree-paths.ts";
import type { ExecutorSpec, TaskAssign } from "../../protocol/index.ts";
import { tempDirs } from "../temp-dirs.ts";
import { git, gitRepo } from "./git-repo.ts";
import { memoryTransports } from "./memory-transport.ts";

const FAKE_CLI = join(import.meta.dirname, "../fixtures/cli/fake-cli.mjs");
const TASK = "01RESUMETASK";

const temp = tempDirs();
const repo = (): string => gitRepo(temp("mesh-worktree-"));

/** The fake CLI as a claude-like executor: `{prompt}` in the middle, an option after it, its argv logged. */
function fakeClaude(argvLog: string, resume: string[] | null = ["--resume", "{session_id}"]): ExecutorSpec {
  return {
    command: [process.execPath, FAKE_CLI, "-m", "sonnet", "{prompt}", "--verbose"],
    format: "claude-stream-json",
    timeout_s: 30,
    env: { FAKE_CLI_ARGV_LOG: argvLog },
    ...(resume === null ? {} : { resume }),
  };
}

/** Every run's arguments and cwd, in order. */
function runsIn(argvLog: string): Array<{ argv: string[]; cwd: string }> {
  return existsSync(argvLog)
    ? readFileSync(argvLog, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { argv: string[]; cwd: string })
    : [];
}

const waitFor = async (check: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** Runs one attempt through a session, playing the task room: accept, take the lines and the exit, confirm. */
async function runSession(
  assign: TaskAssign,
  executor: ExecutorSpec,
  options: { keeper?: WorktreeKeeper; agent?: string; workdir?: string } = {},
) {
  const transports = memoryTransports();
  const session = startAttemptSession({
    assign,
    executor,
    agent: options.agent ?? "vm-1",
    server: new URL("http://mesh.test:1999"),
    token: "attempt-token",
    workdir: options.workdir ?? tmpdir(),
    supervisor: plainSupervisor("test"),
    rates: new RateTable(),
    log: () => {},
    ...(options.keeper === undefined ? {} : { worktrees: options.keeper }),
    openTransport: transports.open,
  });
  await waitFor(() => transports.all.length > 0);
  const room = transports.last();
  room.open();
  room.receive({ type: "attempt.accepted", attempt: assign.attempt, next_line: 0 });
  await waitFor(() => room.sentOf("attempt.exit").length > 0);
  const exit = room.sentOf("attempt.exit")[0];
  if (exit === undefined) throw new Error("no exit");
  room.receive({
    type: "attempt.closed",
    attempt: assign.attempt,
    status: exit.failure_class === undefined ? "succeeded" : "failed",
  });
  await session.done;
  const lines = room.sentOf("log.batch").flatMap((batch) => batch.lines.map((line) => line.text));
  return { hello: room.sentOf("attempt.hello")[0], exit, lines };
}

function assignOf(dir: string, attempt: number, prompt: string, extra: Partial<TaskAssign> = {}): TaskAssign {
  return {
    type: "task.assign",
    task_id: TASK,
    task_name: "fix-it",
    attempt,
    tier: "sonnet",
    prompt,
    cwd: dir,
    base: git(dir, "rev-parse", "HEAD"),
    ...extra,
  };
}

/** Attempt 1 on a fresh keeper: session S1, one file written and committed on its branch. */
async function firstAttempt(argvLog: string, executor = fakeClaude(argvLog)) {
  const dir = repo();
  const worktreesDir = temp("mesh-resume-wt-");
  const keeper = new WorktreeKeeper({ worktreesDir, keepHours: 24, log: () => {} });
  const first = await runSession(assignOf(dir, 1, "session=S1 write=one.txt"), executor, { keeper });
  expect(first.exit).toMatchObject({ session_id: "S1", branch: "mesh/fix-it/1-sonnet" });
  expect(first.exit.failure_class).toBeUndefined();
  return { dir, worktreesDir, keeper, first, folder: worktreePath(worktreesDir, realpathSync(dir), TASK, 1, "sonnet") };
}

const resumeOf = (agent = "vm-1"): NonNullable<TaskAssign["resume"]> => ({
  attempt: 1,
  agent,
  tier: "sonnet",
  session_id: "S1",
  prompt: "session=S1 write=two.txt",
});

describe("commandFor with a session to resume", () => {
  it("puts the resume pieces, the id filled in, just before the element holding {prompt}, else at the end", () => {
    const spec: ExecutorSpec = {
      command: ["claude", "-p", "{prompt}", "--verbose"],
      format: "claude-stream-json",
      timeout_s: 60,
      resume: ["--resume", "{session_id}"],
    };
    expect(commandFor(spec, "fix {session_id}", undefined, "S1")).toEqual([
      "claude",
      "-p",
      "--resume",
      "S1",
      "fix {session_id}",
      "--verbose",
    ]);
    expect(commandFor({ ...spec, command: ["cli", "--ask={prompt}"] }, "go", undefined, "S1")).toEqual([
      "cli",
      "--resume",
      "S1",
      "--ask=go",
    ]);
    expect(
      commandFor({ ...spec, command: ["cli", "--json"], resume: ["--session={session_id}"] }, "go", undefined, "S1"),
    ).toEqual(["cli", "--json", "--session=S1"]);
    expect(commandFor(spec, "go")).toEqual(["claude", "-p", "go", "--verbose"]);
  });
});

describe("a resumed attempt", () => {
  it("continues the session in the earlier attempt's worktree folder on its own branch, and reports the cumulative diff", async () => {
    const argvLog = join(temp("mesh-resume-argv-"), "argv.jsonl");
    const { dir, worktreesDir, keeper, first, folder } = await firstAttempt(argvLog);
    const firstCommit = first.exit.commit ?? "";
    const second = await runSession(assignOf(dir, 2, "a fresh prompt", { resume: resumeOf() }), fakeClaude(argvLog), {
      keeper,
    });

    expect(second.hello).toMatchObject({ attempt: 2, resumed_from: 1 });
    const runs = runsIn(argvLog);
    expect(runs[0]?.argv).toEqual(["-m", "sonnet", "session=S1 write=one.txt", "--verbose"]);
    // The guidance is the prompt; the session's flag comes just before it.
    expect(runs[1]?.argv).toEqual(["-m", "sonnet", "--resume", "S1", "session=S1 write=two.txt", "--verbose"]);
    expect(runs[1]?.cwd).toBe(runs[0]?.cwd);
    expect(runs[1]?.cwd).toBe(realpathSync(folder));
    expect(second.lines).toContain(
      `[agent] resuming attempt 1's session S1 in its worktree ${folder} (now on branch mesh/fix-it/2-sonnet; the diff is still from ${first.exit.base?.slice(0, 12)})`,
    );

    expect(second.exit).toMatchObject({
      branch: "mesh/fix-it/2-sonnet",
      base: first.exit.base,
      diff_stat: { files: 2, insertions: 2, deletions: 0 },
      session_id: "S1",
    });
    expect(second.exit.failure_class).toBeUndefined();
    // The new branch starts at the earlier commit, which stays on its own branch.
    expect(git(dir, "rev-parse", "mesh/fix-it/1-sonnet")).toBe(firstCommit);
    expect(git(dir, "rev-parse", "mesh/fix-it/2-sonnet")).toBe(second.exit.commit);
    expect(git(dir, "rev-parse", "mesh/fix-it/2-sonnet^")).toBe(firstCommit);
    expect(git(dir, "diff", "--name-only", `${first.exit.base}`, "mesh/fix-it/2-sonnet").split("\n").sort()).toEqual([
      "one.txt",
      "two.txt",
    ]);
    expect(existsSync(worktreePath(worktreesDir, realpathSync(dir), TASK, 2, "sonnet"))).toBe(false);
  });

  it("keeps the folder for the resumed attempt when the task ends with it as the winner, also after the agent restarts", async () => {
    const argvLog = join(temp("mesh-resume-argv-"), "argv.jsonl");
    const { dir, worktreesDir, keeper, folder } = await firstAttempt(argvLog);
    await runSession(assignOf(dir, 2, "a fresh prompt", { resume: resumeOf() }), fakeClaude(argvLog), { keeper });
    expect(readFileSync(`${folder}.done`, "utf8")).toMatch(/^\d+\n2$/);
    await keeper.release(TASK, 2);
    expect(existsSync(folder)).toBe(true);

    // A restarted agent knows the folder again as attempt 2's, from its marker.
    const restarted = new WorktreeKeeper({ worktreesDir, keepHours: 24, log: () => {} });
    restarted.start();
    await waitFor(() => restarted.diskBytes() !== undefined);
    restarted.stop();
    await restarted.release(TASK, 2);
    expect(existsSync(folder)).toBe(true);
    await restarted.release(TASK, 1);
    expect(existsSync(folder)).toBe(false);
  });

  it("keeps a failed attempt's worktree when its session can be resumed, so a person's retry continues it", async () => {
    const argvLog = join(temp("mesh-resume-argv-"), "argv.jsonl");
    const dir = repo();
    const keeper = new WorktreeKeeper({ worktreesDir: temp("mesh-resume-wt-"), keepHours: 24, log: () => {} });
    const failed = await runSession(assignOf(dir, 1, "session=S1 write=one.txt exit=1"), fakeClaude(argvLog), {
      keeper,
    });
    expect(failed.exit).toMatchObject({ session_id: "S1" });
    expect(failed.exit.failure_class).toBeDefined();
    const retried = await runSession(assignOf(dir, 2, "a fresh prompt", { resume: resumeOf() }), fakeClaude(argvLog), {
      keeper,
    });
    expect(retried.hello).toMatchObject({ resumed_from: 1 });
    expect(runsIn(argvLog)[1]?.argv).toContain("--resume");
  });

  it("never takes a folder an attempt is still running in (a lost attempt whose CLI still runs here)", async () => {
    const dir = repo();
    const keeper = new WorktreeKeeper({ worktreesDir: temp("mesh-resume-wt-"), keepHours: 24, log: () => {} });
    const running = await keeper.prepare(assignOf(dir, 1, "still running"), dir);
    expect(running).toMatchObject({ ok: true, value: { isolation: "worktree" } });
    const assign = assignOf(dir, 2, "a fresh prompt", { resume: resumeOf() });
    expect(await keeper.resume(assign, dir, { attempt: 1, tier: "sonnet" })).toEqual({
      ok: false,
      error: "attempt 1's worktree is in use by a running attempt",
    });
    if (running.ok && running.value.isolation === "worktree") await keeper.settle(running.value, TASK, 1, true);
    expect(await keeper.resume(assign, dir, { attempt: 1, tier: "sonnet" })).toMatchObject({
      ok: true,
      value: { isolation: "worktree", branch: "mesh/fix-it/2-sonnet" },
    });
  });

  it("resumes in place when the task runs without a worktree (no git repository): same agent and a declared resume suffice", async () => {
    const argvLog = join(temp("mesh-resume-argv-"), "argv.jsonl");
    const plain = temp("mesh-resume-plain-");
    const keeper = new WorktreeKeeper({ worktreesDir: temp("mesh-resume-wt-"), keepHours: 24, log: () => {} });
    const assign: TaskAssign = {
      type: "task.assign",
      task_id: TASK,
      attempt: 2,
      tier: "sonnet",
      prompt: "a fresh prompt",
      cwd: plain,
      resume: resumeOf(),
    };
    const resumed = await runSession(assign, fakeClaude(argvLog), { keeper });
    expect(resumed.hello).toMatchObject({ resumed_from: 1 });
    expect(runsIn(argvLog)[0]).toEqual({
      argv: ["-m", "sonnet", "--resume", "S1", "session=S1 write=two.txt", "--verbose"],
      cwd: realpathSync(plain),
    });
  });
});

describe("an attempt that cannot resume starts fresh and says why in one line", () => {
  const fresh = async (
    why: string,
    setup: (argvLog: string) => Promise<{ run: () => ReturnType<typeof runSession> }>,
  ) => {
    const argvLog = join(temp("mesh-resume-argv-"), "argv.jsonl");
    const { run } = await setup(argvLog);
    const second = await run();
    expect(second.hello).not.toHaveProperty("resumed_from");
    const lines = second.lines.filter((line) => line.includes("not resuming"));
    expect(lines).toEqual([`[agent] starting fresh, not resuming attempt 1's session: ${why}`]);
    const last = runsIn(argvLog).at(-1);
    expect(last?.argv).toEqual(["-m", "sonnet", "a fresh prompt", "--verbose"]);
    expect(second.exit.branch).toBe("mesh/fix-it/2-sonnet");
    // Fresh: its own worktree from the base, holding none of attempt 1's work.
    expect(last?.cwd).toMatch(/\/2-sonnet$/);
    expect(second.exit.diff_stat).toEqual({ files: 0, insertions: 0, deletions: 0 });
  };

  it("when the session is on another agent", () =>
    fresh(
      "this agent is vm-1, the session is on mac-2, and node's sessions cannot move between machines (only claude's, codex's and opencode's can)",
      async (argvLog) => {
        const { dir, keeper } = await firstAttempt(argvLog);
        return {
          run: () =>
            runSession(assignOf(dir, 2, "a fresh prompt", { resume: resumeOf("mac-2") }), fakeClaude(argvLog), {
              keeper,
            }),
        };
      },
    ));

  it("when the tier's executor declares no resume", () =>
    fresh('the executor for sonnet declares no "resume"', async (argvLog) => {
      const { dir, keeper } = await firstAttempt(argvLog);
      return {
        run: () =>
          runSession(assignOf(dir, 2, "a fresh prompt", { resume: resumeOf() }), fakeClaude(argvLog, null), { keeper }),
      };
    }));

  it("when the earlier attempt's worktree is gone", () =>
    fresh("attempt 1's worktree is gone", async (argvLog) => {
      const { dir, keeper, folder } = await firstAttempt(argvLog);
      await keeper.release(TASK, undefined);
      expect(existsSync(folder)).toBe(false);
      return {
        run: () =>
          runSession(assignOf(dir, 2, "a fresh prompt", { resume: resumeOf() }), fakeClaude(argvLog), { keeper }),
      };
    }));
});
