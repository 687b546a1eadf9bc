import type { Attempt, FailureClass, TaskRecord } from "../../protocol/index.ts";

// A person's guidance lives with the task until a model has seen it (docs/resume.md): each attempt
// made while it is pending carries it (`attempt.guidance`), so its prompt quotes it.

/** Classes after which the CLI ran its model to the end of a turn: the prompt was read. */
const MODEL_RAN: readonly FailureClass[] = ["test_fail", "wrong_file", "unknown", "timeout", "budget_exceeded"];

/**
 * Whether an ended attempt ran a model with its prompt: it started, and ended succeeded or with a
 * class the model's own work produced. Refused before a model ran (auth, network, setup, no agent),
 * lost, or cancelled: its guidance was not seen. Nor was it by a resume that failed having spent
 * nothing: a CLI that refused its session (an agent that did not run it again fresh, or a refusal it
 * does not know) reports no tokens and no cost.
 */
export function modelSawPrompt(attempt: Attempt): boolean {
  if (attempt.started_at === undefined) return false;
  if (attempt.status === "succeeded") return true;
  if (attempt.status !== "failed" || attempt.failure_class === undefined || !MODEL_RAN.includes(attempt.failure_class))
    return false;
  const spent = attempt.tokens.input + attempt.tokens.output > 0 || attempt.cost_usd > 0;
  return spent || attempt.resumed_from === undefined;
}

/**
 * The guidance new attempts must carry: the newest attempts' guidance, while none of the attempts
 * that carried it (the run of them at the end, one person's words) has ended having shown it to a
 * model. Undefined when there is none, or once it was seen.
 */
export function pendingGuidance(task: TaskRecord): string | undefined {
  const newest = task.attempts.at(-1)?.guidance;
  if (newest === undefined) return undefined;
  const carriers: Attempt[] = [];
  for (const attempt of [...task.attempts].reverse()) {
    if (attempt.guidance !== newest) break;
    carriers.push(attempt);
    // A person's retry starts the run: what came before it were other words, or the same ones seen.
    if (attempt.role === "retry" && !isLossRetry(task, attempt)) break;
  }
  return carriers.some(modelSawPrompt) ? undefined : newest;
}

/**
 * A retry made because the person's retry just before it was lost (task-state.ts loseAttempt keeps the role), not by a
 * person.
 */
function isLossRetry(task: TaskRecord, attempt: Attempt): boolean {
  const before = task.attempts.find((a) => a.n === attempt.n - 1);
  return (
    before !== undefined &&
    before.role === "retry" &&
    before.tier === attempt.tier &&
    before.failure_class === "agent_lost"
  );
}

/** `attempt` with the pending guidance, if any. */
export function withGuidance(attempt: Attempt, guidance: string | undefined): Attempt {
  return guidance === undefined ? attempt : { ...attempt, guidance };
}
