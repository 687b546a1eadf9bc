// The task's path (its Mermaid flowchart) drawn as an SVG by the `mermaid` library, bundled with the
// page (no CDN) and loaded only once a diagram is shown: `import()` makes esbuild split it into
// chunks the dashboard never fetches. A diagram that fails to render shows its source and the error.
import { el } from "./element.ts";

type Mermaid = (typeof import("mermaid"))["default"];

const DARK = "(prefers-color-scheme: dark)";

let loading: Promise<Mermaid> | null = null;

/** The library, loaded once per page. */
function loadMermaid(): Promise<Mermaid> {
  loading ??= import("mermaid").then((module) => module.default);
  return loading;
}

/** Each render needs an id no other element on the page has. */
let renders = 0;

export class MermaidView {
  readonly element: HTMLDetailsElement;
  private readonly box: HTMLDivElement;
  /** The newest source given. */
  private source: string | null = null;
  /** The theme and source drawn (or being drawn): the same pair is never drawn twice. */
  private drawn: string | null = null;
  /** Renders run one after another: mermaid keeps state between initialize and render. */
  private queue: Promise<void> = Promise.resolve();

  constructor() {
    this.box = el("div", { class: "diagram", testid: "task-diagram" });
    this.element = el("details", { class: "task-path", testid: "task-path" }, el("summary", { text: "Path" }), this.box);
    this.element.open = true;
    // Drawn when first opened, if it was closed before its first render.
    this.element.addEventListener("toggle", () => this.draw());
    // The theme follows the system's setting: redrawn when it changes.
    window.matchMedia(DARK).addEventListener("change", () => this.draw());
  }

  /** Shows `source`; redraws only when it (or the theme) differs from what is drawn. */
  show(source: string): void {
    this.source = source;
    this.draw();
  }

  private draw(): void {
    const source = this.source;
    if (source === null || !this.element.open) return;
    const theme = window.matchMedia(DARK).matches ? "dark" : "default";
    const key = `${theme}\n${source}`;
    if (key === this.drawn) return;
    this.drawn = key;
    if (this.box.childElementCount === 0) this.box.replaceChildren(el("p", { class: "diagram-note", text: "drawing the task's path…" }));
    this.queue = this.queue.then(() => this.render(key, theme, source));
  }

  private async render(key: string, theme: "dark" | "default", source: string): Promise<void> {
    // A newer source arrived while this one waited: only the newest is drawn.
    if (key !== this.drawn) return;
    renders += 1;
    const id = `task-path-${renders}`;
    try {
      const mermaid = await loadMermaid();
      // "strict": labels are text, never HTML or script, and clicks run nothing.
      mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme });
      const { svg } = await mermaid.render(id, source);
      if (key !== this.drawn) return;
      // Mermaid's own output, sanitised by it (DOMPurify) under securityLevel "strict".
      this.box.innerHTML = svg;
    } catch (error) {
      // A failed render can leave its scratch element in the body.
      document.getElementById(`d${id}`)?.remove();
      if (key !== this.drawn) return;
      this.box.replaceChildren(
        el("p", { class: "diagram-error", testid: "task-diagram-error", text: `The path could not be drawn (${error instanceof Error ? error.message : String(error)}); its Mermaid source:` }),
        el("pre", { class: "diagram-source", text: source }),
      );
    }
  }
}
