// Whether an attempt continues an earlier attempt's CLI session (docs/resume.md,
// docs/scheduling.md). The room only proposes it (task.assign's `resume`); the agent decides, since only it
// knows where the session lives: a CLI keeps its sessions on its own machine, claude keyed by the
// cwd's path, so the earlier attempt's worktree folder must still be there to run in again. Another
// agent's claude or codex session is fetched from the task room and restored (docs/sessions.md).
import { basename } from "node:path";
import type {
  ExecutorSpec,
  Result,
  SessionArchiveDownload,
  SessionArchiveRef,
  TaskAssign,
} from "../../protocol/index.ts";
import type { Workspace } from "./attempt-worktree.ts";
import { carriedCliOf } from "./session-files.ts";

/** What the resume depends on from the agent's worktrees (WorktreeKeeper). */
export interface ResumeWorktrees {
  resume(assign: TaskAssign, cwd: string, from: { attempt: number; tier: string }): Promise<Result<Workspace, string>>;
}

export type ResumePlan =
  /**
   * Continue: the CLI gets the executor's `resume` pieces with `sessionId`, and `prompt` (the guidance).
   * `carried`: the session was another agent's, fetched from the task room, to restore before the CLI runs.
   */
  | {
      resumed: true;
      from: number;
      sessionId: string;
      prompt: string;
      workspace?: Workspace;
      carried?: { from: string; archive: SessionArchiveDownload };
    }
  /** Start fresh; `note` says why for the attempt's log (absent when no resume was asked). */
  | { resumed: false; note?: string };

export interface ResumeInput {
  assign: TaskAssign;
  executor: ExecutorSpec;
  /** This agent's name. */
  agent: string;
  /** The agent's worktrees; absent when it has no git worktree support (the attempt then runs in place). */
  worktrees?: ResumeWorktrees;
  /** Fetches another agent's session that the task room keeps (docs/sessions.md); absent: sessions never move. */
  fetchArchive?: (attempt: number, ref: SessionArchiveRef) => Promise<Result<SessionArchiveDownload, string>>;
}

/**
 * Resume when the session is this agent's, the tier's executor declares `resume`, and, for a task
 * with a cwd, the earlier attempt's worktree is still there (it then becomes this attempt's). A task
 * that runs in place (isolation `none`, no repository, no cwd) has the same cwd anyway.
 */
export async function planResume(input: ResumeInput): Promise<ResumePlan> {
  const { assign, executor, agent } = input;
  const resume = assign.resume;
  if (resume === undefined) return { resumed: false };
  const fresh = (why: string): ResumePlan => ({
    resumed: false,
    note: `starting fresh, not resuming attempt ${resume.attempt}'s session: ${why}`,
  });
  if (resume.tier !== assign.tier)
    return fresh(`attempt ${resume.attempt} ran at ${resume.tier}, this one runs at ${assign.tier}`);
  if (executor.resume === undefined) return fresh(`the executor for ${assign.tier} declares no "resume"`);
  const resumed = {
    resumed: true as const,
    from: resume.attempt,
    sessionId: resume.session_id,
    prompt: resume.prompt ?? assign.prompt,
  };
  if (resume.agent !== agent) return carry(input, resume, resumed, fresh);
  // A repo task's worktree comes from the agent's mirror (docs/repositories.md): resumed like a cwd task's.
  if ((assign.cwd === undefined && assign.repo === undefined) || input.worktrees === undefined) return resumed;
  const workspace = await input.worktrees.resume(assign, assign.cwd ?? "", {
    attempt: resume.attempt,
    tier: resume.tier,
  });
  if (workspace.ok) return { ...resumed, workspace: workspace.value };
  // Its folder is gone (a worktree removed, an agent restarted on a new disk): the room's copy still serves
  // (docs/sessions.md).
  return resume.archive === undefined ? fresh(workspace.error) : carry(input, resume, resumed, fresh, workspace.error);
}

/**
 * The session is another agent's, or this agent's without its folder (`elsewhere` says which):
 * continued here when the task room keeps its file and this CLI's session can be carried (claude,
 * codex, opencode); the file is fetched now, restored once the cwd is known (docs/sessions.md).
 * Otherwise fresh, saying why.
 */
async function carry(
  input: ResumeInput,
  resume: NonNullable<TaskAssign["resume"]>,
  resumed: Extract<ResumePlan, { resumed: true }>,
  fresh: (why: string) => ResumePlan,
  elsewhere = `this agent is ${input.agent}, the session is on ${resume.agent}`,
): Promise<ResumePlan> {
  const cli = carriedCliOf(input.executor);
  if (cli === undefined)
    return fresh(
      `${elsewhere}, and ${basename(input.executor.command[0] ?? "") || "this CLI"}'s sessions cannot move between machines (only claude's, codex's and opencode's can)`,
    );
  if (resume.archive === undefined || input.fetchArchive === undefined)
    return fresh(`${elsewhere}, and the task room keeps no copy of it`);
  if (resume.archive.cli !== cli) return fresh(`${elsewhere}, and it is a ${resume.archive.cli} session, not ${cli}'s`);
  const fetched = await input.fetchArchive(resume.attempt, resume.archive);
  if (!fetched.ok) return fresh(`${elsewhere}: ${fetched.error}`);
  return { ...resumed, carried: { from: resume.agent, archive: fetched.value } };
}
