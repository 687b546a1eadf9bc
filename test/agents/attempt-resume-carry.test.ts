// Whether a later attempt on another agent continues the earlier attempt's CLI session
// (docs/sessions.md): only claude's and codex's, only when the task room keeps a copy, and only once
// that copy is fetched; otherwise it starts fresh, and the line says why.
import { describe, expect, it } from "vitest";
import { planResume } from "../../agents/runtime/attempt-resume.ts";
import type {
  ExecutorSpec,
  Result,
  SessionArchiveDownload,
  SessionArchiveRef,
  TaskAssign,
} from "../../protocol/index.ts";

const SHA = "a".repeat(64);
const ref: SessionArchiveRef = { cli: "claude", session_id: "S1", gzip_bytes: 4400, sha256: SHA };
const download: SessionArchiveDownload = {
  attempt: 1,
  cli: "claude",
  session_id: "S1",
  cwd: "/a/1-sonnet",
  file: "S1.jsonl",
  encoding: "gzip-base64",
  bytes: 12_000,
  gzip_bytes: 4400,
  sha256: SHA,
  count: 1,
  data: "H4sI",
};

const assignOf = (archive?: SessionArchiveRef): TaskAssign => ({
  type: "task.assign",
  task_id: "01TASK",
  attempt: 2,
  tier: "sonnet",
  prompt: "the fresh prompt, with the evidence",
  resume: {
    attempt: 1,
    agent: "vm-a",
    tier: "sonnet",
    session_id: "S1",
    prompt: "A person reviewed your work and asks: more",
    ...(archive === undefined ? {} : { archive }),
  },
});
const claude: ExecutorSpec = {
  command: ["claude", "-p", "{prompt}"],
  format: "claude-stream-json",
  timeout_s: 60,
  resume: ["--resume", "{session_id}"],
};
const gemini: ExecutorSpec = {
  command: ["gemini", "-p", "{prompt}"],
  format: "gemini-stream-json",
  timeout_s: 60,
  resume: ["--resume", "{session_id}"],
};

/** A fetch that answers `answer` and records what it was asked. */
function fetcher(answer: Result<SessionArchiveDownload, string>): {
  asked: number[];
  fetchArchive: (attempt: number, ref: SessionArchiveRef) => Promise<Result<SessionArchiveDownload, string>>;
} {
  const asked: number[] = [];
  return {
    asked,
    fetchArchive: async (attempt) => {
      asked.push(attempt);
      return answer;
    },
  };
}

describe("a session on another agent", () => {
  it("is continued when the room keeps it and the CLI is claude: the plan carries the fetched archive", async () => {
    const { asked, fetchArchive } = fetcher({ ok: true, value: download });
    const plan = await planResume({ assign: assignOf(ref), executor: claude, agent: "vm-b", fetchArchive });
    expect(plan).toEqual({
      resumed: true,
      from: 1,
      sessionId: "S1",
      prompt: "A person reviewed your work and asks: more",
      carried: { from: "vm-a", archive: download },
    });
    expect(asked).toEqual([1]);
  });

  it("starts fresh for gemini: its sessions cannot move", async () => {
    const { asked, fetchArchive } = fetcher({ ok: true, value: download });
    const plan = await planResume({ assign: assignOf(ref), executor: gemini, agent: "vm-b", fetchArchive });
    expect(plan).toEqual({
      resumed: false,
      note: "starting fresh, not resuming attempt 1's session: this agent is vm-b, the session is on vm-a, and gemini's sessions cannot move between machines (only claude's, codex's and opencode's can)",
    });
    expect(asked).toEqual([]);
  });

  it("starts fresh when the room keeps no copy (none was sent, or it was over the cap)", async () => {
    const plan = await planResume({
      assign: assignOf(),
      executor: claude,
      agent: "vm-b",
      fetchArchive: fetcher({ ok: true, value: download }).fetchArchive,
    });
    expect(plan).toEqual({
      resumed: false,
      note: "starting fresh, not resuming attempt 1's session: this agent is vm-b, the session is on vm-a, and the task room keeps no copy of it",
    });
  });

  it("starts fresh when the copy cannot be fetched, with the fetch's reason", async () => {
    const plan = await planResume({
      assign: assignOf(ref),
      executor: claude,
      agent: "vm-b",
      fetchArchive: fetcher({ ok: false, error: "the task room answered 500" }).fetchArchive,
    });
    expect(plan).toEqual({
      resumed: false,
      note: "starting fresh, not resuming attempt 1's session: this agent is vm-b, the session is on vm-a: the task room answered 500",
    });
  });

  it("starts fresh when the copy is another CLI's session", async () => {
    const plan = await planResume({
      assign: assignOf({ ...ref, cli: "codex" }),
      executor: claude,
      agent: "vm-b",
      fetchArchive: fetcher({ ok: true, value: download }).fetchArchive,
    });
    expect(plan).toMatchObject({
      resumed: false,
      note: expect.stringContaining("it is a codex session, not claude's"),
    });
  });

  it("is continued from the room's copy when it is this agent's own but its worktree is gone", async () => {
    const { asked, fetchArchive } = fetcher({ ok: true, value: download });
    const worktrees = { resume: async () => ({ ok: false as const, error: "attempt 1's worktree is gone" }) };
    const assign = { ...assignOf(ref), cwd: "/srv/app" };
    const plan = await planResume({ assign, executor: claude, agent: "vm-a", fetchArchive, worktrees });
    expect(plan).toMatchObject({ resumed: true, from: 1, carried: { from: "vm-a", archive: download } });
    expect(asked).toEqual([1]);
    // Without a copy: fresh, as before, with the worktree's reason.
    expect(
      await planResume({
        assign: { ...assignOf(), cwd: "/srv/app" },
        executor: claude,
        agent: "vm-a",
        fetchArchive,
        worktrees,
      }),
    ).toEqual({
      resumed: false,
      note: "starting fresh, not resuming attempt 1's session: attempt 1's worktree is gone",
    });
  });

  it("is not fetched when the session is this agent's own", async () => {
    const { asked, fetchArchive } = fetcher({ ok: true, value: download });
    const plan = await planResume({ assign: assignOf(ref), executor: claude, agent: "vm-a", fetchArchive });
    expect(plan).toEqual({
      resumed: true,
      from: 1,
      sessionId: "S1",
      prompt: "A person reviewed your work and asks: more",
    });
    expect(asked).toEqual([]);
  });
});
