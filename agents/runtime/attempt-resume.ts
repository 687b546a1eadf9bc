// Whether an attempt continues an earlier attempt's CLI session (issue 15 item 5; INTERFACES.md
// "Scheduling"). The room only proposes it (task.assign's `resume`); the agent decides, since only it
// knows where the session lives: a CLI keeps its sessions on its own machine, claude keyed by the
// cwd's path, so the earlier attempt's worktree folder must still be there to run in again.
import type { ExecutorSpec, Result, TaskAssign } from "../../protocol/index.ts";
import type { Workspace } from "./attempt-worktree.ts";

/** What the resume depends on from the agent's worktrees (WorktreeKeeper). */
export interface ResumeWorktrees {
  resume(assign: TaskAssign, cwd: string, from: { attempt: number; tier: string }): Promise<Result<Workspace, string>>;
}

export type ResumePlan =
  /** Continue: the CLI gets the executor's `resume` pieces with `sessionId`, and `prompt` (the guidance). */
  | { resumed: true; from: number; sessionId: string; prompt: string; workspace?: Workspace }
  /** Start fresh; `note` says why for the attempt's log (absent when no resume was asked). */
  | { resumed: false; note?: string };

export interface ResumeInput {
  assign: TaskAssign;
  executor: ExecutorSpec;
  /** This agent's name. */
  agent: string;
  /** The agent's worktrees; absent when it has no git worktree support (the attempt then runs in place). */
  worktrees?: ResumeWorktrees;
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
  const fresh = (why: string): ResumePlan => ({ resumed: false, note: `starting fresh, not resuming attempt ${resume.attempt}'s session: ${why}` });
  if (resume.agent !== agent) return fresh(`this agent is ${agent}, the session is on ${resume.agent}`);
  if (resume.tier !== assign.tier) return fresh(`attempt ${resume.attempt} ran at ${resume.tier}, this one runs at ${assign.tier}`);
  if (executor.resume === undefined) return fresh(`the executor for ${assign.tier} declares no "resume"`);
  const resumed = { resumed: true as const, from: resume.attempt, sessionId: resume.session_id, prompt: resume.prompt ?? assign.prompt };
  // A repo task's worktree comes from the agent's mirror (docs/repositories.md): resumed like a cwd task's.
  if ((assign.cwd === undefined && assign.repo === undefined) || input.worktrees === undefined) return resumed;
  const workspace = await input.worktrees.resume(assign, assign.cwd ?? "", { attempt: resume.attempt, tier: resume.tier });
  return workspace.ok ? { ...resumed, workspace: workspace.value } : fresh(workspace.error);
}
