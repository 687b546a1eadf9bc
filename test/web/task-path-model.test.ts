// The task's path as the page draws it: the same steps as the API's Mermaid text, laid out in
// columns (consensus side by side, skipped tiers under the start), with room for every label.
import { describe, expect, it } from "vitest";
import { type Attempt, type TaskRecord, taskMermaid } from "../../protocol/index.ts";
import { layoutPath, pathSentence, taskPath } from "../../web/src/task-path-model.ts";
import { attemptRecord, taskRecord } from "../task-records.ts";

function attempt(fields: Partial<Attempt>): Attempt {
  return attemptRecord({ cost_usd: 0.0007, latency_ms: 1500, ...fields });
}

function task(fields: Partial<TaskRecord> = {}): TaskRecord {
  return taskRecord({ task_id: "01TASKABCDEF", ...fields });
}

/** A fixed-width font: 7 px a character, 8 in bold. */
const measure = (text: string, bold: boolean): number => text.length * (bold ? 8 : 7);

describe("a task's path", () => {
  it("is start → each attempt → end for a retried task, with the Mermaid text's labels", () => {
    const record = task({
      name: "fix-router",
      winner: 2,
      attempts: [
        attempt({ n: 1, status: "failed", failure_class: "test_fail" }),
        attempt({ n: 2, role: "retry", tier: "opus", diff_stat: { files: 1, insertions: 4, deletions: 1 } }),
      ],
    });
    const path = taskPath(record);
    expect(path.start.title).toBe("task fix-router");
    expect(path.columns.map((column) => column.map((node) => node.title))).toEqual([
      ["#1 sonnet on vm-1"],
      ["#2 retry opus on vm-1 ★"],
      ["succeeded"],
    ]);
    expect(path.columns[0]?.[0]?.detail).toEqual(["failed: test_fail", "$0.0007 · 1.5s"]);
    expect(path.columns[1]?.[0]?.detail[1]).toBe("$0.0007 · 1.5s · +4 -1");
    // The Mermaid text the API returns names the same steps.
    const mermaid = taskMermaid(record);
    for (const column of path.columns)
      for (const node of column) expect(mermaid).toContain(node.title.replace(" ★", ""));
    expect(pathSentence(path)).toBe(
      "task fix-router → #1 sonnet on vm-1: failed: test_fail → #2 retry opus on vm-1 ★: succeeded → succeeded",
    );
  });

  it("puts a consensus round in one column, then the judge, the person and the end", () => {
    const record = task({
      status: "awaiting_human",
      attempts: [attempt({ n: 1, role: "consensus" }), attempt({ n: 2, role: "consensus", tier: "codex" })],
      consensus: { winner: 2, reasons: ["smaller diff", "tests pass"] },
      human: { reason: "consensus wants a person", summary: "two candidates", since: 0 },
      skipped_tiers: [{ tier: "deepseek", reason: "no agent serves it", at: 0 }],
    });
    const path = taskPath(record);
    expect(path.skipped.map((node) => node.title)).toEqual(["deepseek skipped"]);
    expect(path.columns.map((column) => column.map((node) => node.shape))).toEqual([
      ["attempt", "attempt"],
      ["judge"],
      ["human"],
      ["end"],
    ]);
    expect(path.columns[2]?.[0]).toMatchObject({ title: "person: waiting", tone: "awaiting_human" });
    expect(path.columns[3]?.[0]?.title).toBe("awaiting human");
  });

  it("lays out columns left to right without overlaps, every edge from left to right, each label inside its box", () => {
    const record = task({
      attempts: [
        attempt({ n: 1, role: "consensus" }),
        attempt({ n: 2, role: "consensus", agent: "a-much-longer-agent-name" }),
      ],
      consensus: { winner: 1, reasons: ["one"] },
      skipped_tiers: [{ tier: "deepseek", reason: "budget", at: 0 }],
    });
    const layout = layoutPath(taskPath(record), measure);
    for (const box of layout.boxes) {
      expect(box.x + box.width).toBeLessThanOrEqual(layout.width);
      expect(box.y + box.height).toBeLessThanOrEqual(layout.height);
      expect(box.width).toBeGreaterThanOrEqual(
        Math.max(measure(box.node.title, true), ...box.node.detail.map((line) => measure(line, false))),
      );
      for (const other of layout.boxes) {
        if (other === box) continue;
        const apart =
          box.x + box.width <= other.x ||
          other.x + other.width <= box.x ||
          box.y + box.height <= other.y ||
          other.y + other.height <= box.y;
        expect(apart, `${box.node.id} and ${other.node.id} overlap`).toBe(true);
      }
    }
    const solid = layout.edges.filter((edge) => !edge.dashed);
    for (const edge of solid) expect(edge.from.x + edge.from.width).toBeLessThan(edge.to.x);
    // start → both candidates, both → judge, judge → end; the skipped tier on a dashed rail.
    expect(solid.map((edge) => `${edge.from.node.id}>${edge.to.node.id}`)).toEqual([
      "created>a1",
      "created>a2",
      "a1>judge",
      "a2>judge",
      "judge>final",
    ]);
    expect(layout.edges.filter((edge) => edge.dashed).map((edge) => edge.to.node.id)).toEqual(["skip0"]);
  });
});
