// A task's steps are read once (protocol/task-steps.ts): the API's Mermaid text and the page's
// drawing render the same steps and the same arrows.
import { describe, expect, it } from "vitest";
import { type Attempt, type TaskRecord, taskMermaid, taskSteps } from "../../protocol/index.ts";
import { layoutPath, taskPath } from "../../web/src/task-path-model.ts";
import { attemptRecord, taskRecord } from "../task-records.ts";

const attempt = (fields: Partial<Attempt>): Attempt => attemptRecord({ cost_usd: 0.0007, latency_ms: 1500, ...fields });
const task = (fields: Partial<TaskRecord>): TaskRecord =>
  taskRecord({ task_id: "01TASKABCDEF", status: "failed", ...fields });

/** The solid arrows of the Mermaid text, as "from>to". */
const mermaidArrows = (text: string): string[] =>
  [...text.matchAll(/^ {2}(\w+) --> (\w+)$/gm)].map((m) => `${m[1]}>${m[2]}`).sort();

describe("a task's steps", () => {
  it("draw the same arrows in the Mermaid text and on the page, a retry after a consensus round coming from the whole round", () => {
    const record = task({
      attempts: [
        attempt({ n: 1 }),
        attempt({ n: 2, role: "consensus" }),
        attempt({ n: 3, role: "consensus", tier: "codex" }),
        attempt({ n: 4, role: "retry", status: "failed" }),
      ],
    });
    expect(taskSteps(record).columns.map((column) => column.map((step) => step.id))).toEqual([
      ["a1"],
      ["a2", "a3"],
      ["a4"],
      ["final"],
    ]);
    const page = layoutPath(taskPath(record), (text) => text.length * 7)
      .edges.filter((edge) => !edge.dashed)
      .map((edge) => `${edge.from.node.id}>${edge.to.node.id}`)
      .sort();
    expect(mermaidArrows(taskMermaid(record))).toEqual(page);
    expect(page).toContain("a2>a4");
    expect(page).toContain("a3>a4");
    expect(page).not.toContain("a1>a4");
  });

  it("keep whole detail lines in the steps; the page cuts them, the Mermaid text keeps them", () => {
    const reason = `no agent serves it ${"x".repeat(80)}`;
    const record = task({ skipped_tiers: [{ tier: "deepseek", reason, at: 0 }] });
    expect(taskSteps(record).skipped[0]?.detail).toEqual([reason]);
    expect(taskPath(record).skipped[0]?.detail[0]).toHaveLength(56);
    expect(taskMermaid(record)).toContain(reason);
  });
});
