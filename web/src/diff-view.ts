// An attempt's diff on the task page: fetched from `GET /api/tasks/<id>/diff?attempt=N` with the
// page's link, drawn by diff2html (a maintained diff renderer) with highlight.js colouring the code,
// side by side or unified as the person chose. diff2html escapes every line it draws, so nothing in
// a diff is read as HTML. It is loaded when the first diff is fetched, not with the page, and the
// diff shows as plain text until it is there.
import { callApi, taskPath } from "./api-request.ts";
import { DIFF_LAYOUT_KEY, type DiffLayout, initialDiffLayout } from "./diff-layout.ts";
import { el } from "./element.ts";
import { refusalText, unreachableText } from "./work-facts.ts";

type Renderer = [
  typeof import("diff2html/lib-esm/ui/js/diff2html-ui-slim.js"),
  typeof import("diff2html/lib-esm/types.js"),
];
let renderer: Promise<Renderer> | null = null;
/** Set once the renderer's chunks have loaded: until then a diff shows as plain text. */
let rendererReady = false;

/** diff2html's chunks, fetched once, while the diff itself is fetched (docs/page.md "The diff"). */
function loadRenderer(): Promise<Renderer> {
  renderer ??= Promise.all([
    import("diff2html/lib-esm/ui/js/diff2html-ui-slim.js"),
    import("diff2html/lib-esm/types.js"),
  ]).then((loaded) => {
    rendererReady = true;
    return loaded;
  });
  return renderer;
}

/** A file with more changed lines than this is not drawn (diff2html says so); the branch holds it. */
const MAX_FILE_CHANGES = 5000;
/** Lines longer than this are not highlighted: highlight.js is slow on minified files. */
const MAX_HIGHLIGHT_CHARS = 2000;

export class DiffView {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly status: HTMLParagraphElement;
  private readonly body: HTMLDivElement;
  private readonly layoutButtons: ReadonlyMap<DiffLayout, HTMLButtonElement>;
  private layout: DiffLayout;
  /** The attempt shown (or being fetched); a late answer for another one is dropped. */
  private attempt: number | undefined;
  /** The shown attempt's diff, kept so a layout switch redraws without fetching again. */
  private diff: { text: string; truncated: boolean } | null = null;

  constructor(
    private readonly taskId: string,
    private readonly token: string,
  ) {
    this.layout = initialDiffLayout(storedLayout(), window.innerWidth);
    this.title = el("h4", { class: "diff-heading", testid: "work-diff-title", text: "Diff" });
    const buttons = new Map<DiffLayout, HTMLButtonElement>();
    for (const [layout, label, testid] of [
      ["line-by-line", "unified", "diff-unified"],
      ["side-by-side", "side by side", "diff-side-by-side"],
    ] as const) {
      const button = el("button", {
        class: "diff-layout-button",
        text: label,
        attrs: { type: "button", "data-testid": testid },
      });
      button.addEventListener("click", () => this.setLayout(layout));
      buttons.set(layout, button);
    }
    this.layoutButtons = buttons;
    this.status = el("p", { class: "diff-status", testid: "diff-status", attrs: { role: "status" } });
    this.body = el("div", { class: "diff-view", testid: "diff-view" });
    const switcher = el(
      "div",
      { class: "diff-layouts", attrs: { role: "group", "aria-label": "diff layout" } },
      ...buttons.values(),
    );
    this.element = el(
      "div",
      { class: "work-diff-box" },
      el("div", { class: "diff-head" }, this.title, switcher),
      this.status,
      this.body,
    );
    this.element.hidden = true;
    this.markLayout();
    // Wrapped lines change height with the width: the halves' rows are evened again.
    let pending = false;
    new ResizeObserver(() => {
      if (pending || this.layout !== "side-by-side") return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        evenSideRows(this.body);
      });
    }).observe(this.body);
  }

  /** The attempt whose diff is shown, if any. */
  shown(): number | undefined {
    return this.attempt;
  }

  async show(attempt: number, truncated: boolean): Promise<void> {
    this.attempt = attempt;
    this.diff = null;
    this.element.hidden = false;
    const path = `${taskPath(this.taskId, "diff")}?attempt=${attempt}`;
    this.title.textContent = `Diff of attempt ${attempt}`;
    this.status.textContent = `loading the diff of attempt ${attempt}…`;
    this.body.replaceChildren();
    // Failures show when drawing; the load only starts early here.
    loadRenderer().catch(() => undefined);
    const answer = await callApi(path, this.token);
    if (this.attempt !== attempt) return;
    if (!answer.answered) return void (this.status.textContent = unreachableText(answer.error));
    if (!answer.ok)
      return void (this.status.textContent = `The diff of attempt ${attempt} is not available: ${refusalText(answer.status, answer.body)}`);
    if (answer.body.trim() === "") return void (this.status.textContent = `attempt ${attempt} changed nothing`);
    this.diff = { text: answer.body, truncated };
    await this.draw();
  }

  private setLayout(layout: DiffLayout): void {
    this.layout = layout;
    try {
      localStorage.setItem(DIFF_LAYOUT_KEY, layout);
    } catch {
      // Storage refused (private mode, full): the choice holds for this page only.
    }
    this.markLayout();
    void this.draw();
  }

  private markLayout(): void {
    for (const [layout, button] of this.layoutButtons)
      button.setAttribute("aria-pressed", String(layout === this.layout));
    this.body.dataset.layout = this.layout;
  }

  private async draw(): Promise<void> {
    const diff = this.diff;
    const attempt = this.attempt;
    if (diff === null) return;
    // The diff is shown the moment it arrives: as text until the renderer is there.
    if (!rendererReady) {
      this.status.textContent = "drawing the diff…";
      this.body.replaceChildren(plainDiff(diff.text));
    }
    try {
      const [{ Diff2HtmlUI }, { ColorSchemeType }] = await loadRenderer();
      if (this.diff !== diff || this.attempt !== attempt) return;
      const ui = new Diff2HtmlUI(this.body, diff.text, {
        outputFormat: this.layout,
        drawFileList: false,
        matching: "lines",
        highlight: true,
        colorScheme: ColorSchemeType.AUTO,
        synchronisedScroll: true,
        fileContentToggle: false,
        stickyFileHeaders: false,
        diffMaxChanges: MAX_FILE_CHANGES,
        maxLineLengthHighlight: MAX_HIGHLIGHT_CHARS,
      });
      ui.draw();
      ui.highlightCode();
      if (this.layout === "side-by-side") evenSideRows(this.body);
      this.status.textContent = diff.truncated
        ? "The stored diff stops at the size cap (at a file boundary); the attempt's branch holds all of it."
        : "";
    } catch (error) {
      // The renderer failed (or its chunk did not load): the diff is still readable as text.
      this.status.textContent = `The diff could not be drawn (${error instanceof Error ? error.message : String(error)}); here it is as text:`;
      this.body.replaceChildren(plainDiff(diff.text));
    }
  }
}

function storedLayout(): string | null {
  try {
    return localStorage.getItem(DIFF_LAYOUT_KEY);
  } catch {
    return null;
  }
}

/**
 * Side by side, diff2html draws each half as a table of its own; with long lines wrapped (task-page.css)
 * a row can be taller on one side, so each pair of rows gets the taller one's height. All heights are
 * read before any is written: one layout pass.
 */
function evenSideRows(root: HTMLElement): void {
  const pairs = [...root.querySelectorAll(".d2h-files-diff")].map((files) =>
    [...files.querySelectorAll(":scope > .d2h-file-side-diff")].map((side) => [
      ...side.querySelectorAll<HTMLTableRowElement>("tbody tr"),
    ]),
  );
  for (const rows of pairs.flat(2)) rows.style.height = "";
  const heights = pairs.map(([left = [], right = []]) =>
    left.map((row, i) => Math.max(row.getBoundingClientRect().height, right[i]?.getBoundingClientRect().height ?? 0)),
  );
  pairs.forEach(([left = [], right = []], p) => {
    heights[p]?.forEach((height, i) => {
      for (const row of [left[i], right[i]]) if (row !== undefined) row.style.height = `${height}px`;
    });
  });
}

/** A diff as text, each added or removed line marked by a class (task-page.css colours them). */
function plainDiff(text: string): HTMLPreElement {
  const lines = text.split("\n").map((line) => {
    const kind =
      line.startsWith("+") && !line.startsWith("+++")
        ? "plain-ins"
        : line.startsWith("-") && !line.startsWith("---")
          ? "plain-del"
          : line.startsWith("@@")
            ? "plain-hunk"
            : null;
    return kind === null ? `${line}\n` : el("span", { class: kind, text: `${line}\n` });
  });
  return el("pre", { class: "diff-plain", testid: "diff-plain" }, ...lines);
}
