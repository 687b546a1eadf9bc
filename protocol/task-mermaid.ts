// A task's path as a Mermaid flowchart: returned with every task (`mermaid`, docs/mcp-tools.md) and drawn
// by the task page (docs/page.md), so both read the one definition here.
import type { TaskRecord } from "./task.ts";
import { type TaskStep, taskSteps } from "./task-steps.ts";

/** Mermaid labels may not hold quotes or brackets. */
const label = (text: string): string => text.replace(/["[\]{}()<>]/g, "'");

/**
 * The path the task really took (task-steps.ts), as a Mermaid flowchart: skipped tiers (dashed), each
 * attempt with its tier, agent, outcome, cost and time, consensus candidates side by side, the human step, the end.
 */
export function taskMermaid(task: TaskRecord): string {
  const steps = taskSteps(task);
  const lines = ["flowchart LR", `  ${steps.start.id}["${label(steps.start.title)}"]`];
  for (const skip of steps.skipped) lines.push(`  ${skip.id}${node(skip)}`, `  ${steps.start.id} -.-> ${skip.id}`);
  let previous = [steps.start.id];
  for (const column of steps.columns) {
    for (const step of column) {
      lines.push(`  ${step.id}${node(step)}`);
      for (const from of previous) lines.push(`  ${from} --> ${step.id}`);
    }
    previous = column.map((step) => step.id);
  }
  return lines.join("\n");
}

/** A step's Mermaid node: its shape's brackets around its title and detail lines. */
function node(step: TaskStep): string {
  const title = label(step.title);
  switch (step.shape) {
    case "attempt":
      return `["${title}<br/>${label(step.detail.join(" · "))}"]`;
    case "judge":
      return `[/"${title}<br/>${step.detail.map(label).join("<br/>")}"/]`;
    case "human":
      return `{{"${title}"}}`;
    case "end":
      return `(("${title}"))`;
    default:
      return `["${[title, ...step.detail.map(label)].join("<br/>")}"]`;
  }
}
