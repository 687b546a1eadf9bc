// The two ends of a session's move inside an attempt (docs/sessions.md): what the agent sends at an
// attempt's end, and how a carried session is put in place (or the attempt turns fresh, saying why).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ResumePlan } from "../../agents/runtime/attempt-resume.ts";
import { claudeProjectName } from "../../agents/runtime/session-files.ts";
import { archiveForRoom, restoreCarried } from "../../agents/runtime/session-handoff.ts";
import type { SessionArchiveDownload } from "../../protocol/index.ts";
import { tempDirs } from "../temp-dirs.ts";
import { committedRepo, git } from "./git-repo.ts";
import {
  claudeExecutor as claudeIn,
  downloadOf as download,
  CLAUDE_ID as ID,
  writeClaudeTranscript as transcript,
} from "./session-fixtures.ts";

const tempDir = tempDirs();
const temp = (): string => tempDir("mesh-handoff-unit-");

/** A repository at a base commit, and the diff of one file added on top of it. */
function baseAndDiff(): { base: string; diff: string } {
  const base = committedRepo(temp(), { "README.md": "base\n" });
  writeFileSync(join(base, "first.txt"), "one\n");
  git(base, "add", "first.txt");
  // git() trims its output; a patch ends with its newline.
  const diff = `${git(base, "diff", "--cached")}\n`;
  git(base, "reset", "-q", "--hard");
  return { base, diff };
}

const plan = (archive: SessionArchiveDownload): Extract<ResumePlan, { resumed: true }> => ({
  resumed: true,
  from: 1,
  sessionId: ID,
  prompt: "A person reviewed your work and asks: more",
  carried: { from: "vm-a", archive },
});

describe("at an attempt's end", () => {
  it("sends claude's session in pieces and says how big it was", async () => {
    const home = temp();
    transcript(home, "/w/1");
    const notes: string[] = [];
    const pieces = await archiveForRoom({
      executor: claudeIn(home),
      attempt: 1,
      sessionId: ID,
      cwd: "/w/1",
      note: (text) => notes.push(text),
    });
    expect(pieces).toHaveLength(1);
    expect(notes).toEqual([
      expect.stringMatching(
        new RegExp(
          `^claude session ${ID} kept for a later attempt on another agent: \\d+\\.\\d KiB, \\d+\\.\\d KiB compressed$`,
        ),
      ),
    ]);
  });

  it("sends nothing, silently, for an executor that declares no resume or a CLI whose sessions do not move", async () => {
    const home = temp();
    transcript(home, "/w/1");
    const notes: string[] = [];
    const { resume: _resume, ...noResume } = claudeIn(home);
    expect(
      await archiveForRoom({
        executor: noResume,
        attempt: 1,
        sessionId: ID,
        cwd: "/w/1",
        note: (text) => notes.push(text),
      }),
    ).toEqual([]);
    expect(
      await archiveForRoom({
        executor: {
          command: ["gemini", "{prompt}"],
          format: "gemini-stream-json",
          timeout_s: 60,
          resume: ["--resume", "{session_id}"],
        },
        attempt: 1,
        sessionId: ID,
        cwd: "/w/1",
        note: (text) => notes.push(text),
      }),
    ).toEqual([]);
    expect(notes).toEqual([]);
  });

  it("sends nothing over the cap, and the log says a later attempt elsewhere starts fresh", async () => {
    const home = temp();
    transcript(home, "/w/1");
    const notes: string[] = [];
    expect(
      await archiveForRoom({
        executor: claudeIn(home),
        attempt: 1,
        sessionId: ID,
        cwd: "/w/1",
        note: (text) => notes.push(text),
        maxBytes: 10,
      }),
    ).toEqual([]);
    expect(notes).toEqual([
      expect.stringMatching(
        /not kept for another agent \(.*over the 0\.0 KiB cap\); a later attempt elsewhere starts fresh with the evidence$/,
      ),
    ]);
  });
});

describe("a carried session before the CLI runs", () => {
  it("is restored under this agent's HOME for the new cwd, with attempt 1's changes applied to the new worktree", async () => {
    const [homeA, homeB] = [temp(), temp()];
    transcript(homeA, "/a/1-sonnet");
    const pieces = await archiveForRoom({
      executor: claudeIn(homeA),
      attempt: 1,
      sessionId: ID,
      cwd: "/a/1-sonnet",
      note: () => {},
    });
    const { base, diff } = baseAndDiff();
    const notes: string[] = [];
    const next = await restoreCarried(plan(download(pieces, diff)), {
      executor: claudeIn(homeB),
      cwd: base,
      worktree: base,
      note: (text) => notes.push(text),
    });
    expect(next.resumed).toBe(true);
    expect(readFileSync(join(base, "first.txt"), "utf8")).toBe("one\n");
    const restored = join(homeB, ".claude/projects", claudeProjectName(base), `${ID}.jsonl`);
    expect(readFileSync(restored, "utf8")).toContain(`"cwd":"${base}"`);
    expect(notes).toEqual([
      `attempt 1's claude session came from agent vm-a: restored to ${restored}; attempt 1's changes applied to this worktree`,
    ]);
  });

  it("turns the attempt fresh, saying why, when attempt 1's changes do not apply", async () => {
    const [homeA, homeB] = [temp(), temp()];
    transcript(homeA, "/a/1-sonnet");
    const pieces = await archiveForRoom({
      executor: claudeIn(homeA),
      attempt: 1,
      sessionId: ID,
      cwd: "/a/1-sonnet",
      note: () => {},
    });
    const { base, diff } = baseAndDiff();
    writeFileSync(join(base, "first.txt"), "already here\n");
    const notes: string[] = [];
    const next = await restoreCarried(plan(download(pieces, diff)), {
      executor: claudeIn(homeB),
      cwd: base,
      worktree: base,
      note: (text) => notes.push(text),
    });
    expect(next).toEqual({
      resumed: false,
      note: expect.stringMatching(
        /^starting fresh, not resuming attempt 1's session: it came from agent vm-a but attempt 1's changes do not apply to this worktree: .*first\.txt/,
      ),
    });
    expect(notes).toEqual([next.resumed ? "" : next.note]);
  });

  it("turns the attempt fresh when the archive does not match its checksum, writing nothing", async () => {
    const [homeA, homeB] = [temp(), temp()];
    transcript(homeA, "/a/1-sonnet");
    const pieces = await archiveForRoom({
      executor: claudeIn(homeA),
      attempt: 1,
      sessionId: ID,
      cwd: "/a/1-sonnet",
      note: () => {},
    });
    const next = await restoreCarried(plan({ ...download(pieces), sha256: "0".repeat(64) }), {
      executor: claudeIn(homeB),
      cwd: "/b/2-sonnet",
      note: () => {},
    });
    expect(next).toEqual({
      resumed: false,
      note: "starting fresh, not resuming attempt 1's session: it came from agent vm-a but the session archive does not match its checksum",
    });
    expect(existsSync(join(homeB, ".claude"))).toBe(false);
  });
});
