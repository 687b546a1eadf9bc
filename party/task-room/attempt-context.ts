import type { Attempt, LogLine, TaskRecord } from "../../protocol/index.ts";

/** How many of an earlier attempt's last output lines the next prompt quotes. */
const TAIL_LINES = 20;
const MAX_LINE = 300;

/**
 * The prompt for attempt `n`: the instruction, then what earlier attempts did and why they failed
 * (class, files changed, the tail of their output, which holds the acceptance check's), and a
 * person's guidance, so the next tier does not retry blind.
 */
export function attemptPrompt(task: TaskRecord, attempt: Attempt, recentLines: readonly LogLine[]): string {
  const earlier = task.attempts.filter((a) => a.n < attempt.n && a.status !== "dispatched" && a.status !== "running" && a.status !== "cancelled" && a.failure_class !== "agent_lost");
  if (earlier.length === 0 && attempt.guidance === undefined) return task.instruction;
  const sections = [task.instruction, "", "---", "Earlier attempts at this task did not pass. Learn from them:"];
  for (const prior of earlier) {
    sections.push(`Attempt ${prior.n} (${prior.tier}, ${prior.executor || "unknown executor"}): ${prior.status}${prior.failure_class ? `, ${prior.failure_class}` : ""}${prior.exit_code === undefined ? "" : `, exit ${prior.exit_code}`}.`);
    if (prior.changed_files?.length) sections.push(`Files it changed: ${prior.changed_files.join(", ")}`);
    const tail = recentLines.filter((line) => line.attempt === prior.n && line.stream !== "system").slice(-TAIL_LINES);
    if (tail.length > 0) sections.push("Its last output:", ...tail.map((line) => `  ${line.text.slice(0, MAX_LINE)}`));
  }
  if (attempt.guidance !== undefined) sections.push("", `Guidance from a person: ${attempt.guidance}`);
  sections.push("---", "Do the task so that its acceptance check passes and only allowed files change.");
  return sections.join("\n");
}
