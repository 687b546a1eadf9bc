// A task's path as the page draws it, read from the task record: the same steps as the `mermaid`
// text the API returns (protocol/task-mermaid.ts), as data a small SVG renderer lays out in columns.
// Pure, so it is tested without a browser (docs/page.md "The task's path").
import type { Attempt, TaskRecord } from "../../protocol/index.ts";

export type PathShape = "start" | "skip" | "attempt" | "judge" | "human" | "end";

export type PathNode = {
  id: string;
  shape: PathShape;
  title: string;
  detail: string[];
  /** Colours the node: a task or attempt status, "skipped", or "start". */
  tone: string;
};

/** `start`, with skipped tiers hanging below it; then columns, each reached from every node of the one before. */
export type TaskPath = { start: PathNode; skipped: PathNode[]; columns: PathNode[][] };

/** A detail line longer than this is cut: the whole text is in the Mermaid source and the attempts table. */
const DETAIL_CHARS = 56;

const cut = (text: string): string => (text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS - 1)}…` : text);

export function taskPath(task: TaskRecord): TaskPath {
  const start: PathNode = { id: "created", shape: "start", title: `task ${task.name ?? task.task_id.slice(-6)}`, detail: [], tone: "start" };
  const skipped = (task.skipped_tiers ?? []).map((skip, i): PathNode => ({ id: `skip${i}`, shape: "skip", title: `${skip.tier} skipped`, detail: [cut(skip.reason)], tone: "skipped" }));
  const columns: PathNode[][] = [];
  // Consensus attempts run side by side: one column; any other attempt is a column of its own.
  let round: PathNode[] = [];
  const closeRound = (): void => {
    if (round.length > 0) columns.push(round);
    round = [];
  };
  for (const attempt of task.attempts) {
    const node = attemptNode(task, attempt);
    if (attempt.role === "consensus") round.push(node);
    else {
      closeRound();
      columns.push([node]);
    }
  }
  closeRound();
  if (task.consensus !== undefined) {
    columns.push([{ id: "judge", shape: "judge", title: `consensus: #${task.consensus.winner}`, detail: task.consensus.reasons.slice(0, 4).map(cut), tone: "judge" }]);
  }
  if (task.human !== undefined) {
    const decision = task.human.decision;
    columns.push([{ id: "human", shape: "human", title: `person: ${decision ?? "waiting"}`, detail: [], tone: decision === undefined ? "awaiting_human" : "decided" }]);
  }
  columns.push([{ id: "final", shape: "end", title: `${task.status.replace("_", " ")}${task.applied ? " · applied" : ""}`, detail: [], tone: task.status }]);
  return { start, skipped, columns };
}

function attemptNode(task: TaskRecord, attempt: Attempt): PathNode {
  const outcome = attempt.failure_class ? `${attempt.status}: ${attempt.failure_class}` : attempt.status;
  const where = attempt.agent ? ` on ${attempt.agent}` : "";
  const role = attempt.role === "consensus" ? " consensus" : attempt.role === "retry" ? " retry" : "";
  const stat = attempt.diff_stat === undefined ? "" : ` · +${attempt.diff_stat.insertions} -${attempt.diff_stat.deletions}`;
  const won = task.winner === attempt.n ? " ★" : "";
  return {
    id: `a${attempt.n}`,
    shape: "attempt",
    title: `#${attempt.n}${role} ${attempt.tier}${where}${won}`,
    detail: [cut(outcome), `$${attempt.cost_usd.toFixed(4)} · ${(attempt.latency_ms / 1000).toFixed(1)}s${stat}`],
    tone: attempt.status,
  };
}

/** The path in words, for the picture's text alternative: "task x → #1 sonnet on vm-a → succeeded". */
export function pathSentence(path: TaskPath): string {
  const skipped = path.skipped.length === 0 ? "" : ` (${path.skipped.map((node) => node.title).join(", ")})`;
  return [`${path.start.title}${skipped}`, ...path.columns.map((column) => column.map((node) => [node.title, ...node.detail.slice(0, 1)].join(": ")).join(" and "))].join(" → ");
}

export type Box = { node: PathNode; x: number; y: number; width: number; height: number };
export type Edge = { from: Box; to: Box; dashed: boolean };
export type PathLayout = { boxes: Box[]; edges: Edge[]; width: number; height: number };

/** Sizes and gaps of the drawing, in CSS pixels. */
export const PATH_METRICS = { padX: 10, padY: 7, line: 16, columnGap: 44, rowGap: 12, indent: 22, margin: 4 } as const;

/**
 * Places the nodes: columns left to right, each centred on one middle line; skipped tiers stacked
 * under the start, indented, on a dashed rail. `measure` gives a text's width (the browser's font).
 */
export function layoutPath(path: TaskPath, measure: (text: string, bold: boolean) => number): PathLayout {
  const m = PATH_METRICS;
  const size = (node: PathNode): { width: number; height: number } => {
    const widest = Math.max(measure(node.title, true), ...node.detail.map((line) => measure(line, false)));
    // Shapes with slanted or pointed sides need room for them.
    const slant = node.shape === "judge" || node.shape === "human" ? 24 : node.shape === "end" ? 12 : 0;
    return { width: Math.ceil(widest + 2 * m.padX + slant), height: 2 * m.padY + m.line * (1 + node.detail.length) };
  };
  const columnHeight = (column: PathNode[]): number => column.reduce((sum, node) => sum + size(node).height, 0) + m.rowGap * (column.length - 1);
  const startSize = size(path.start);
  const middle = m.margin + Math.max(startSize.height, ...path.columns.map(columnHeight)) / 2;
  const boxes: Box[] = [];
  const edges: Edge[] = [];
  const startBox: Box = { node: path.start, x: m.margin, y: middle - startSize.height / 2, ...startSize };
  boxes.push(startBox);
  let bottom = startBox.y + startBox.height;
  let firstWidth = startBox.width;
  for (const node of path.skipped) {
    const box: Box = { node, x: m.margin + m.indent, y: bottom + m.rowGap, ...size(node) };
    boxes.push(box);
    edges.push({ from: startBox, to: box, dashed: true });
    bottom = box.y + box.height;
    firstWidth = Math.max(firstWidth, m.indent + box.width);
  }
  let x = m.margin + firstWidth + m.columnGap;
  let previous = [startBox];
  for (const column of path.columns) {
    let y = middle - columnHeight(column) / 2;
    const placed = column.map((node): Box => {
      const box: Box = { node, x, y, ...size(node) };
      y += box.height + m.rowGap;
      return box;
    });
    const columnWidth = Math.max(...placed.map((box) => box.width));
    // Narrower nodes sit in the middle of their column.
    for (const box of placed) box.x += (columnWidth - box.width) / 2;
    for (const from of previous) for (const to of placed) edges.push({ from, to, dashed: false });
    boxes.push(...placed);
    bottom = Math.max(bottom, y - m.rowGap);
    previous = placed;
    x += columnWidth + m.columnGap;
  }
  return { boxes, edges, width: Math.ceil(x - m.columnGap + m.margin), height: Math.ceil(bottom + m.margin) };
}
