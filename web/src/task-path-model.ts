// A task's path as the page draws it: the steps the `mermaid` text the API returns is made of
// (protocol/task-steps.ts), as data a small SVG renderer lays out in columns.
// Pure, so it is tested without a browser (docs/page.md "The task's path").
import { type TaskRecord, type TaskStep, type TaskStepShape, taskSteps } from "../../protocol/index.ts";

export type PathShape = TaskStepShape;

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
  const steps = taskSteps(task);
  return {
    start: pathNode(steps.start),
    skipped: steps.skipped.map(pathNode),
    columns: steps.columns.map((column) => column.map(pathNode)),
  };
}

/** A step as the page draws it: long detail lines cut, the end's status in words. */
function pathNode(step: TaskStep): PathNode {
  const title = step.shape === "end" ? step.title.replace("_", " ") : step.title;
  const detail = step.shape === "attempt" ? [cut(step.detail[0] ?? ""), ...step.detail.slice(1)] : step.detail.map(cut);
  return { id: step.id, shape: step.shape, title, detail, tone: step.state };
}

/** The path in words, for the picture's text alternative: "task x → #1 sonnet on vm-a → succeeded". */
export function pathSentence(path: TaskPath): string {
  const skipped = path.skipped.length === 0 ? "" : ` (${path.skipped.map((node) => node.title).join(", ")})`;
  return [
    `${path.start.title}${skipped}`,
    ...path.columns.map((column) =>
      column.map((node) => [node.title, ...node.detail.slice(0, 1)].join(": ")).join(" and "),
    ),
  ].join(" → ");
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
  const columnHeight = (column: PathNode[]): number =>
    column.reduce((sum, node) => sum + size(node).height, 0) + m.rowGap * (column.length - 1);
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
