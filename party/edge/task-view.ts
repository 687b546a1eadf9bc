import type { TaskRecord, TaskView } from "../../protocol/index.ts";

/** How long a watch link in a returned task stays valid. */
export const WATCH_LINK_TTL_MS = 24 * 60 * 60 * 1000;

/** The page URL that opens one task live; the credential rides in the fragment, so it never reaches a server log. */
export function watchUrl(origin: string, taskId: string, linkToken: string): string {
  return `${origin}/#task=${taskId}&token=${encodeURIComponent(linkToken)}`;
}

/** Mermaid labels may not hold quotes or brackets. */
const label = (text: string): string => text.replace(/["[\]{}()<>]/g, "'");

/** The task's path as a Mermaid flowchart: created → each attempt with its tier, agent, outcome, cost → final status. */
export function taskMermaid(task: TaskRecord): string {
  const lines = ["flowchart LR", `  created["${label(`task ${task.name ?? task.task_id.slice(-6)}`)}"]`];
  let previous = "created";
  for (const attempt of task.attempts) {
    const id = `a${attempt.n}`;
    const outcome = attempt.failure_class ? `${attempt.status}: ${attempt.failure_class}` : attempt.status;
    const where = attempt.agent ? ` on ${attempt.agent}` : "";
    const cost = `$${attempt.cost_usd.toFixed(4)} · ${(attempt.latency_ms / 1000).toFixed(1)}s`;
    lines.push(`  ${id}["${label(`#${attempt.n} ${attempt.tier}${where}`)}<br/>${label(`${outcome} · ${cost}`)}"]`);
    lines.push(`  ${previous} --> ${id}`);
    previous = id;
  }
  lines.push(`  final(("${label(task.status)}"))`, `  ${previous} --> final`);
  return lines.join("\n");
}

export function presentTask(task: TaskRecord, url: string): TaskView {
  return { ...task, mermaid: taskMermaid(task), watch_url: url };
}
