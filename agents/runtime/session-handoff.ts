// What an attempt does so its CLI session can move to another agent (docs/sessions.md): at its end it
// sends the session's file to the task room; a later attempt on another agent restores it (and the
// earlier attempt's changes) in its own worktree before the CLI resumes it.

import type { AttemptSessionArchive, ExecutorSpec, Result, SessionArchiveDownload } from "../../protocol/index.ts";
import type { ResumePlan } from "./attempt-resume.ts";
import { git } from "./local-git.ts";
import { captureSession, carriedCliOf, kib, restoreSession } from "./session-files.ts";

/** The environment the executor's CLI runs with: where it keeps its sessions. */
const cliEnvironment = (executor: ExecutorSpec): NodeJS.ProcessEnv => ({ ...process.env, ...executor.env });

export interface ArchiveCapture {
  executor: ExecutorSpec;
  attempt: number;
  /** The session the CLI reported; nothing is captured without one. */
  sessionId: string | undefined;
  cwd: string;
  /** One `[agent]` line for the attempt's log. */
  note: (text: string) => void;
  maxBytes?: number;
}

/**
 * The pieces of the attempt's session for the task room, or none: a CLI whose session cannot move,
 * an executor that declares no `resume` (no later attempt could continue it), or a file over the cap.
 */
export async function archiveForRoom(input: ArchiveCapture): Promise<AttemptSessionArchive[]> {
  const cli = carriedCliOf(input.executor);
  if (cli === undefined || input.executor.resume === undefined || input.sessionId === undefined) return [];
  const captured = await captureSession({
    cli,
    attempt: input.attempt,
    sessionId: input.sessionId,
    cwd: input.cwd,
    env: cliEnvironment(input.executor),
    program: input.executor.command[0] ?? cli,
    ...(input.maxBytes === undefined ? {} : { maxBytes: input.maxBytes }),
  }).catch(
    (cause: unknown): Result<never, string> => ({
      ok: false,
      error: cause instanceof Error ? cause.message : String(cause),
    }),
  );
  if (!captured.ok) {
    input.note(
      `${cli} session ${input.sessionId} not kept for another agent (${captured.error}); a later attempt elsewhere starts fresh with the evidence`,
    );
    return [];
  }
  input.note(
    `${cli} session ${input.sessionId} kept for a later attempt on another agent: ${kib(captured.value.bytes)}, ${kib(captured.value.gzipBytes)} compressed`,
  );
  return captured.value.pieces;
}

export interface ArchiveRestore {
  archive: SessionArchiveDownload;
  executor: ExecutorSpec;
  /** Where the CLI runs now. */
  cwd: string;
  /** The new worktree's root, when the attempt has one: the earlier attempt's diff is applied there. */
  worktree?: string;
}

/**
 * Puts the session where the CLI finds it from `cwd`, and the earlier attempt's changes into the worktree; what was
 * done, or why it could not be.
 */
async function restoreForResume(input: ArchiveRestore): Promise<Result<string, string>> {
  const restored = await restoreSession(
    input.archive,
    input.cwd,
    cliEnvironment(input.executor),
    input.executor.command[0],
  ).catch(
    (cause: unknown): Result<never, string> => ({
      ok: false,
      error: cause instanceof Error ? cause.message : String(cause),
    }),
  );
  if (!restored.ok) return restored;
  const diff = input.archive.diff;
  if (diff === undefined || input.worktree === undefined) return restored;
  const applied = await gitApply(input.worktree, diff);
  return applied.ok
    ? { ok: true, value: `${restored.value}; attempt ${input.archive.attempt}'s changes applied to this worktree` }
    : {
        ok: false,
        error: `attempt ${input.archive.attempt}'s changes do not apply to this worktree: ${applied.error}`,
      };
}

/** The earlier attempt's diff on the new worktree, through the mesh's git call (its settings, no inherited GIT_DIR). */
async function gitApply(worktree: string, diff: string): Promise<Result<void, string>> {
  const applied = await git(worktree, ["apply", "--whitespace=nowarn", "-"], diff);
  return applied.code === 0
    ? { ok: true, value: undefined }
    : { ok: false, error: applied.stderr.trim().slice(0, 500) };
}

/**
 * A plan that continues another agent's session, once the cwd is known: the same plan when the
 * session (and the earlier changes) are in place, else a fresh start with the evidence, said in the log.
 */
export async function restoreCarried(
  plan: Extract<ResumePlan, { resumed: true }>,
  where: { executor: ExecutorSpec; cwd: string; worktree?: string; note: (text: string) => void },
): Promise<ResumePlan> {
  if (plan.carried === undefined) return plan;
  const restored = await restoreForResume({
    archive: plan.carried.archive,
    executor: where.executor,
    cwd: where.cwd,
    ...(where.worktree === undefined ? {} : { worktree: where.worktree }),
  });
  if (restored.ok) {
    where.note(
      `attempt ${plan.from}'s ${plan.carried.archive.cli} session came from agent ${plan.carried.from}: ${restored.value}`,
    );
    return plan;
  }
  const note = `starting fresh, not resuming attempt ${plan.from}'s session: it came from agent ${plan.carried.from} but ${restored.error}`;
  where.note(note);
  return { resumed: false, note };
}
