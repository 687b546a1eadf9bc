// A resume the CLI refused (docs/resume.md): asked to continue a session whose file is gone, claude,
// codex and opencode exit 1 at once, before any model runs. The attempt is then run again fresh.
import { type CliSignature, matchSignature, RESUME_REFUSED_SIGNATURES } from "./cli-signatures.ts";

export interface ResumedRunEnd {
  exitCode: number | null;
  /** The last lines of stderr and stdout, and the error the CLI's own report gave. */
  stderr: string;
  stdout: string;
  reportError?: string;
}

/** The refusal the run's output shows, with the line it was seen in; undefined for any other end. */
export function resumeRefusal(end: ResumedRunEnd): { signature: CliSignature; line: string } | undefined {
  if (end.exitCode === 0 || end.exitCode === null) return undefined;
  return matchSignature(RESUME_REFUSED_SIGNATURES, [end.stderr, end.stdout, end.reportError ?? ""].join("\n"));
}

/** The attempt log's line for it. */
export function refusalNote(sessionId: string, seen: { line: string }): string {
  return `[agent] the CLI refused to resume session ${sessionId} (${seen.line}); running it again fresh on this attempt, with the task's full prompt: the earlier attempts' evidence and any guidance`;
}
