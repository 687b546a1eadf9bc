// The steps of the path a task really took, read from its record once: the API's Mermaid text
// (task-mermaid.ts) and the task page's drawing both render these (docs/page.md "The task's path").
import type { Attempt, TaskRecord } from "./task.ts";

export type TaskStepShape = "start" | "skip" | "attempt" | "judge" | "human" | "end";

export type TaskStep = {
  id: string;
  shape: TaskStepShape;
  title: string;
  /** Lines under the title, whole: a renderer cuts or joins them. */
  detail: string[];
  /** What colours it: a task or attempt status, "start", "skipped", "judge" or "decided". */
  state: string;
};

/** `start`, with skipped tiers hanging below it; then columns, each reached from every step of the one before. */
export type TaskSteps = { start: TaskStep; skipped: TaskStep[]; columns: TaskStep[][] };

/**
 * Skipped tiers, each attempt with its tier, agent, outcome, cost and time (consensus candidates side
 * by side in one column), the judge's reasons, the human step, the end.
 */
export function taskSteps(task: TaskRecord): TaskSteps {
  const start: TaskStep = {
    id: "created",
    shape: "start",
    title: `task ${task.name ?? task.task_id.slice(-6)}`,
    detail: [],
    state: "start",
  };
  const skipped = (task.skipped_tiers ?? []).map(
    (skip, i): TaskStep => ({
      id: `skip${i}`,
      shape: "skip",
      title: `${skip.tier} skipped`,
      detail: [skip.reason],
      state: "skipped",
    }),
  );
  const columns: TaskStep[][] = [];
  // Consensus attempts run side by side: one column; any other attempt is a column of its own.
  let round: TaskStep[] = [];
  const closeRound = (): void => {
    if (round.length > 0) columns.push(round);
    round = [];
  };
  for (const attempt of task.attempts) {
    const step = attemptStep(task, attempt);
    if (attempt.role === "consensus") round.push(step);
    else {
      closeRound();
      columns.push([step]);
    }
  }
  closeRound();
  if (task.consensus !== undefined) {
    columns.push([
      {
        id: "judge",
        shape: "judge",
        title: `consensus: #${task.consensus.winner}`,
        detail: task.consensus.reasons.slice(0, 4),
        state: "judge",
      },
    ]);
  }
  if (task.human !== undefined) {
    const decision = task.human.decision;
    columns.push([
      {
        id: "human",
        shape: "human",
        title: `person: ${decision ?? "waiting"}`,
        detail: [],
        state: decision === undefined ? "awaiting_human" : "decided",
      },
    ]);
  }
  columns.push([
    {
      id: "final",
      shape: "end",
      title: `${task.status}${task.applied ? " · applied" : ""}`,
      detail: [],
      state: task.status,
    },
  ]);
  return { start, skipped, columns };
}

function attemptStep(task: TaskRecord, attempt: Attempt): TaskStep {
  const outcome = attempt.failure_class ? `${attempt.status}: ${attempt.failure_class}` : attempt.status;
  const where = attempt.agent ? ` on ${attempt.agent}` : "";
  const role = attempt.role === "consensus" ? " consensus" : attempt.role === "retry" ? " retry" : "";
  const stat =
    attempt.diff_stat === undefined ? "" : ` · +${attempt.diff_stat.insertions} -${attempt.diff_stat.deletions}`;
  const won = task.winner === attempt.n ? " ★" : "";
  return {
    id: `a${attempt.n}`,
    shape: "attempt",
    title: `#${attempt.n}${role} ${attempt.tier}${where}${won}`,
    detail: [outcome, `$${attempt.cost_usd.toFixed(4)} · ${(attempt.latency_ms / 1000).toFixed(1)}s${stat}`],
    state: attempt.status,
  };
}
