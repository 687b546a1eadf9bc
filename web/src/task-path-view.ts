// The task's path drawn as an SVG by the page itself, from the task record, the moment the record
// arrives: a path is a short chain of columns, so a few boxes and curves do, and the page needs no
// diagram library for it (Mermaid took 10-20 s to load its chunks here: docs/page.md "The task's
// path"). The Mermaid text the API returns is offered below it, to copy into any Mermaid viewer.
// Colours come from CSS classes, so the picture follows the light or dark theme without redrawing.
import { type TaskRecord, taskMermaid } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { type Box, layoutPath, PATH_METRICS, type PathLayout, pathSentence, taskPath } from "./task-path-model.ts";

const SVG = "http://www.w3.org/2000/svg";
/** The labels' size in px; task-page.css sets the same on `.path-svg`. */
const FONT_PX = 12;

export class TaskPathView {
  readonly element: HTMLDetailsElement;
  private readonly box: HTMLDivElement;
  private readonly source: HTMLPreElement;
  /** What is drawn, so an unchanged path is not drawn again. */
  private drawn = "";
  private measurer: CanvasRenderingContext2D | null = null;

  constructor() {
    this.box = el("div", { class: "diagram", testid: "task-diagram" });
    this.source = el("pre", { class: "diagram-source", testid: "task-path-source" });
    const sourceBox = el("details", { class: "path-source" }, el("summary", { text: "as Mermaid" }), this.source);
    this.element = el(
      "details",
      { class: "task-path", testid: "task-path" },
      el("summary", { text: "Path" }),
      this.box,
      sourceBox,
    );
    this.element.open = true;
    // A path wider than the screen scrolls; its cut edge fades, so a person sees there is more.
    this.box.addEventListener("scroll", () => this.markCutEdges(), { passive: true });
    window.addEventListener("resize", () => this.markCutEdges(), { passive: true });
  }

  private markCutEdges(): void {
    const { scrollLeft, scrollWidth, clientWidth } = this.box;
    this.box.classList.toggle("cut-left", scrollLeft > 1);
    this.box.classList.toggle("cut-right", scrollLeft + clientWidth < scrollWidth - 1);
  }

  show(task: TaskRecord): void {
    const path = taskPath(task);
    const key = JSON.stringify(path);
    if (key === this.drawn) return;
    this.drawn = key;
    this.source.textContent = taskMermaid(task);
    const layout = layoutPath(path, (text, bold) => this.measure(text, bold));
    this.box.replaceChildren(drawPath(layout, pathSentence(path)));
    requestAnimationFrame(() => this.markCutEdges());
  }

  /** A label's width in the page's font, from a canvas: no layout pass, and it works while the panel is hidden. */
  private measure(text: string, bold: boolean): number {
    this.measurer ??= document.createElement("canvas").getContext("2d");
    if (this.measurer === null) return text.length * FONT_PX * 0.62;
    this.measurer.font = `${bold ? "600 " : ""}${FONT_PX}px ${getComputedStyle(document.body).fontFamily}`;
    return this.measurer.measureText(text).width;
  }
}

function svgElement<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function drawPath(layout: PathLayout, sentence: string): SVGSVGElement {
  const svg = svgElement("svg", {
    class: "path-svg",
    width: layout.width,
    height: layout.height,
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    role: "img",
    "aria-label": `the task's path: ${sentence}`,
  });
  const marker = svgElement("marker", {
    id: "path-arrow",
    viewBox: "0 0 8 8",
    refX: 7,
    refY: 4,
    markerWidth: 7,
    markerHeight: 7,
    orient: "auto-start-reverse",
  });
  marker.append(svgElement("path", { d: "M0,0 L8,4 L0,8 z", class: "path-arrow" }));
  const defs = svgElement("defs", {});
  defs.append(marker);
  svg.append(defs);
  for (const edge of layout.edges) {
    const d = edge.dashed ? railPath(edge.from, edge.to) : curvePath(edge.from, edge.to);
    svg.append(
      svgElement("path", {
        d,
        class: edge.dashed ? "path-edge dashed" : "path-edge",
        ...(edge.dashed ? {} : { "marker-end": "url(#path-arrow)" }),
      }),
    );
  }
  for (const box of layout.boxes) svg.append(nodeGroup(box));
  return svg;
}

/** From the right of one box to the left of the next, level at both ends. */
function curvePath(from: Box, to: Box): string {
  const x1 = from.x + from.width;
  const y1 = from.y + from.height / 2;
  const x2 = to.x - 1;
  const y2 = to.y + to.height / 2;
  const bend = (x2 - x1) / 2;
  return `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
}

/** Down the start's left side, then across into a skipped tier. */
function railPath(from: Box, to: Box): string {
  const x = from.x + PATH_METRICS.indent / 2;
  return `M${x},${from.y + from.height} V${to.y + to.height / 2} H${to.x}`;
}

function nodeGroup(box: Box): SVGGElement {
  const { node, x, y, width: w, height: h } = box;
  const group = svgElement("g", { class: `path-node shape-${node.shape} tone-${node.tone}`, "data-node": node.id });
  const tip = svgElement("title", {});
  tip.textContent = [node.title, ...node.detail].join("\n");
  group.append(tip);
  const slant = 12;
  if (node.shape === "judge")
    group.append(
      svgElement("polygon", { points: `${x + slant},${y} ${x + w},${y} ${x + w - slant},${y + h} ${x},${y + h}` }),
    );
  else if (node.shape === "human")
    group.append(
      svgElement("polygon", {
        points: `${x + slant},${y} ${x + w - slant},${y} ${x + w},${y + h / 2} ${x + w - slant},${y + h} ${x + slant},${y + h} ${x},${y + h / 2}`,
      }),
    );
  else
    group.append(
      svgElement("rect", {
        x,
        y,
        width: w,
        height: h,
        rx: node.shape === "end" ? h / 2 : node.shape === "start" ? 8 : 4,
      }),
    );
  const text = svgElement("text", { x: x + w / 2, y: y + PATH_METRICS.padY + FONT_PX, "text-anchor": "middle" });
  [node.title, ...node.detail].forEach((line, i) => {
    const span = svgElement("tspan", {
      x: x + w / 2,
      ...(i === 0 ? { class: "path-title" } : { dy: PATH_METRICS.line, class: "path-detail" }),
    });
    span.textContent = line;
    text.append(span);
  });
  group.append(text);
  return group;
}
