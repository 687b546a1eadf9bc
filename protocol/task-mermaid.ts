// A task's path as a Mermaid flowchart: returned with every task (`mermaid`, docs/mcp-tools.md) and drawn
// by the task page (docs/page.md), so both read the one definition here.
import type { TaskRecord } from "./task.ts";

/** Mermaid labels may not hold quotes or brackets. */
const label = (text: string): string => text.replace(/["[\]{}()<>]/g, "'");

/**
 * The path the task really took, as a Mermaid flowchart: skipped tiers (dashed), each attempt with
 * its tier, agent, outcome, cost and time, consensus candidates side by side, the human step, the end.
 */
export function taskMermaid(task: TaskRecord): string {
  const lines = ["flowchart LR", `  created["${label(`task ${task.name ?? task.task_id.slice(-6)}`)}"]`];
  for (const [i, skip] of (task.skipped_tiers ?? []).entries()) {
    lines.push(`  skip${i}["${label(`${skip.tier} skipped`)}<br/>${label(skip.reason)}"]`, `  created -.-> skip${i}`);
  }
  let previous = ["created"];
  let round: string[] = [];
  const flushRound = (): void => {
    if (round.length > 0) previous = round;
    round = [];
  };
  for (const attempt of task.attempts) {
    const id = `a${attempt.n}`;
    const outcome = attempt.failure_class ? `${attempt.status}: ${attempt.failure_class}` : attempt.status;
    const where = attempt.agent ? ` on ${attempt.agent}` : "";
    const role = attempt.role === "consensus" ? " consensus" : attempt.role === "retry" ? " retry" : "";
    const stat = attempt.diff_stat === undefined ? "" : ` · +${attempt.diff_stat.insertions} -${attempt.diff_stat.deletions}`;
    const cost = `$${attempt.cost_usd.toFixed(4)} · ${(attempt.latency_ms / 1000).toFixed(1)}s${stat}`;
    const won = task.winner === attempt.n ? " ★" : "";
    lines.push(`  ${id}["${label(`#${attempt.n}${role} ${attempt.tier}${where}${won}`)}<br/>${label(`${outcome} · ${cost}`)}"]`);
    for (const from of previous) lines.push(`  ${from} --> ${id}`);
    if (attempt.role === "consensus") round.push(id);
    else {
      flushRound();
      previous = [id];
    }
  }
  flushRound();
  if (task.consensus !== undefined) {
    // The judge's reasons, beside the round it decided.
    lines.push(`  judge[/"${label(`consensus: #${task.consensus.winner}`)}<br/>${task.consensus.reasons.slice(0, 4).map(label).join("<br/>")}"/]`);
    for (const from of previous) lines.push(`  ${from} --> judge`);
    previous = ["judge"];
  }
  if (task.human !== undefined) {
    lines.push(`  human{{"${label(`person: ${task.human.decision ?? "waiting"}`)}"}}`);
    for (const from of previous) lines.push(`  ${from} --> human`);
    previous = ["human"];
  }
  lines.push(`  final(("${label(task.status)}${task.applied ? " · applied" : ""}"))`);
  for (const from of previous) lines.push(`  ${from} --> final`);
  return lines.join("\n");
}
