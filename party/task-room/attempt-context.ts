import type { Attempt, LogLine, TaskRecord } from "../../protocol/index.ts";

/** How many of an earlier attempt's last output lines the next prompt quotes. */
const TAIL_LINES = 20;
const MAX_LINE = 300;
/** An earlier attempt's diff is quoted whole up to this size; past it, its stat only. */
const MAX_QUOTED_DIFF = 12_000;
/**
 * All earlier attempts' evidence together stays under this, newest first: the prompt stays bounded
 * (docs/escalation.md).
 */
const MAX_EVIDENCE = 40_000;

/**
 * The prompt for attempt `n`: the instruction, then what earlier attempts did and why they failed,
 * newest first: tier, class, the acceptance command with its exit code and output tail, and the diff
 * (or its stat when large), so the next tier starts clean but not blind (docs/escalation.md). Then a person's
 * guidance.
 */
export function attemptPrompt(
  task: TaskRecord,
  attempt: Attempt,
  recentLines: readonly LogLine[],
  diffs: ReadonlyMap<number, string> = new Map(),
): string {
  const earlier = task.attempts.filter(
    (a) =>
      a.n < attempt.n &&
      a.status !== "dispatched" &&
      a.status !== "running" &&
      a.status !== "cancelled" &&
      a.failure_class !== "agent_lost",
  );
  if (earlier.length === 0 && attempt.guidance === undefined) return task.instruction;
  const sections = [
    task.instruction,
    "",
    "---",
    "Earlier attempts at this task did not pass. You start from a clean checkout; learn from them (newest first):",
  ];
  let budget = MAX_EVIDENCE;
  for (const prior of [...earlier].reverse()) {
    const evidence = evidenceOf(prior, recentLines, diffs.get(prior.n));
    const text =
      evidence.length <= budget
        ? evidence
        : `${evidence.slice(0, Math.max(0, budget))}\n  (cut: the evidence of earlier attempts is capped)`;
    sections.push(text);
    budget -= text.length;
    if (budget <= 0) break;
  }
  if (attempt.guidance !== undefined) sections.push("", `Guidance from a person: ${attempt.guidance}`);
  sections.push("---", "Do the task so that its acceptance check passes and only allowed files change.");
  return sections.join("\n");
}

function evidenceOf(prior: Attempt, recentLines: readonly LogLine[], diff: string | undefined): string {
  const lines = [
    `Attempt ${prior.n} (${prior.tier}, ${prior.executor || "unknown executor"}): ${prior.status}${prior.failure_class ? `, ${prior.failure_class}` : ""}${prior.exit_code === undefined ? "" : `, exit ${prior.exit_code}`}.`,
  ];
  if (prior.acceptance !== undefined) {
    lines.push(
      `Acceptance check \`${prior.acceptance.command}\` exited ${prior.acceptance.exit_code ?? "without a code"} (${prior.acceptance.passed ? "passed" : "failed"}); its last output:`,
    );
    lines.push(
      ...prior.acceptance.output_tail
        .split("\n")
        .slice(-TAIL_LINES)
        .map((line) => `  ${line.slice(0, MAX_LINE)}`),
    );
  }
  if (diff !== undefined && diff.length > 0 && diff.length <= MAX_QUOTED_DIFF) {
    lines.push("Its diff:", "```diff", diff.trimEnd(), "```");
  } else if (prior.diff_stat !== undefined) {
    lines.push(
      `Its diff (too large to quote): ${prior.diff_stat.files} files, +${prior.diff_stat.insertions} -${prior.diff_stat.deletions}${prior.branch ? ` on branch ${prior.branch}` : ""}.`,
    );
  } else if (prior.changed_files?.length) {
    lines.push(`Files it changed: ${prior.changed_files.join(", ")}`);
  }
  const tail = recentLines.filter((line) => line.attempt === prior.n && line.stream !== "system").slice(-TAIL_LINES);
  if (tail.length > 0) lines.push("Its last output:", ...tail.map((line) => `  ${line.text.slice(0, MAX_LINE)}`));
  return lines.join("\n");
}
