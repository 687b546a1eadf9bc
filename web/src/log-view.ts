// The live log, virtualised: every line stays in memory (an array), and only the rows in view, plus
// a few either side, are in the DOM. Rows have one fixed height, so the row at any scroll position
// is found by arithmetic (row-window.ts) and a 100,000-line log scrolls as smoothly as a short one.
import type { LogLine } from "../../protocol/index.ts";
import { ansiLineHtml, hasAnsi, stripAnsi } from "./ansi-line.ts";
import { el } from "./element.ts";
import { copyText, downloadText, logFileName, logPlainText } from "./log-export.ts";
import { rowWindow } from "./row-window.ts";
import { clockTime } from "./time-format.ts";

/**
 * One row's height in pixels; task-page.css gives `.log .line` the same. (Chromium caps an element's
 * height near 33.5 million px: about 1.8 million rows, far past the logs a task keeps.)
 */
export const LOG_ROW_PX = 18;
/** Rows rendered above and below the view, so a quick scroll does not show blank rows. */
const OVERSCAN_ROWS = 30;
/** Within this many pixels of the end counts as "at the end" (follow stays on). */
const AT_END_PX = 24;
/** Characters the line-number column takes, plus its gap: the row's width beyond its text. */
const GUTTER_CH = 9;

export class LogView {
  readonly element: HTMLElement;
  /** Every line received, in order: the log is never cut, only the DOM is. */
  private readonly lines: LogLine[] = [];
  private readonly scroller: HTMLDivElement;
  /** As tall as all rows together, as wide as the widest: gives the scrollbars their extent. */
  private readonly spacer: HTMLDivElement;
  /** Holds the rendered rows, placed at the first one's offset. */
  private readonly rowsBox: HTMLDivElement;
  private readonly empty: HTMLDivElement;
  private readonly counter: HTMLSpanElement;
  private readonly followBox: HTMLInputElement;
  private readonly actionStatus: HTMLSpanElement;
  /** Rows in the DOM by line index; reused while they stay in view (lines never change). */
  private rendered = new Map<number, HTMLDivElement>();
  private shownStart = -1;
  private shownEnd = -1;
  private widestChars = 0;
  private frameRequested = false;

  /** `taskId` names the downloaded file. */
  constructor(private readonly taskId: string) {
    this.counter = el("span", {
      class: "line-count",
      testid: "line-count",
      text: "0 lines",
      attrs: { "data-count": "0" },
    });
    this.followBox = el("input", { attrs: { type: "checkbox", "data-testid": "follow" } });
    this.followBox.checked = true;
    this.followBox.addEventListener("change", () => {
      if (this.followBox.checked) this.scrollToEnd();
    });
    const copy = el("button", {
      class: "log-action",
      text: "copy",
      title: "copy the whole log, without colour codes",
      attrs: { type: "button", "data-testid": "log-copy" },
    });
    copy.addEventListener("click", () => void this.copy());
    const download = el("button", {
      class: "log-action",
      text: "download",
      title: "download the whole log as a text file",
      attrs: { type: "button", "data-testid": "log-download" },
    });
    download.addEventListener("click", () => downloadText(logPlainText(this.lines), logFileName(this.taskId)));
    this.actionStatus = el("span", {
      class: "log-action-status",
      testid: "log-action-status",
      attrs: { role: "status" },
    });
    this.rowsBox = el("div", { class: "log-rows" });
    this.spacer = el("div", { class: "log-spacer" }, this.rowsBox);
    this.empty = el("div", { class: "log-empty", text: "no output yet" });
    // Focusable, so the keyboard scrolls it; a region, not role=log, which would read 100,000 lines aloud.
    this.scroller = el(
      "div",
      { class: "log", testid: "log", attrs: { tabindex: "0", role: "region", "aria-label": "task log" } },
      this.empty,
      this.spacer,
    );
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    const toolbar = el(
      "div",
      { class: "log-toolbar" },
      el("h3", { text: "Log" }),
      this.counter,
      el("span", { class: "log-actions" }, copy, download, this.actionStatus),
      el("label", { class: "follow" }, this.followBox, " follow"),
    );
    this.element = el("section", { class: "log-section" }, toolbar, this.scroller);
  }

  /** Takes fresh lines; the DOM catches up on the next animation frame, once per frame however many arrive. */
  append(lines: readonly LogLine[]): void {
    for (const line of lines) {
      this.lines.push(line);
      const chars = stripAnsi(line.text).length;
      if (chars > this.widestChars) this.widestChars = chars;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.render();
    });
  }

  private render(): void {
    const total = this.lines.length;
    this.counter.textContent = `${total} ${total === 1 ? "line" : "lines"}`;
    this.counter.dataset.count = String(total);
    this.empty.hidden = total > 0;
    this.spacer.style.height = `${total * LOG_ROW_PX}px`;
    this.spacer.style.minWidth = `calc(${this.widestChars + GUTTER_CH}ch + 20px)`;
    if (this.followBox.checked) this.scrollToEnd();
    this.renderWindow();
  }

  /** Puts the rows in view into the DOM, reusing those already there. */
  private renderWindow(): void {
    const { start, end } = rowWindow(
      this.scroller.scrollTop,
      this.scroller.clientHeight,
      LOG_ROW_PX,
      this.lines.length,
      OVERSCAN_ROWS,
    );
    if (start === this.shownStart && end === this.shownEnd) return;
    const next = new Map<number, HTMLDivElement>();
    const rows: HTMLDivElement[] = [];
    for (let index = start; index < end; index++) {
      const row = this.rendered.get(index) ?? this.renderLine(index);
      next.set(index, row);
      rows.push(row);
    }
    this.rendered = next;
    this.shownStart = start;
    this.shownEnd = end;
    this.rowsBox.style.top = `${start * LOG_ROW_PX}px`;
    this.rowsBox.replaceChildren(...rows);
  }

  private renderLine(index: number): HTMLDivElement {
    const line = this.lines[index];
    if (line === undefined) return el("div", { class: "line" });
    const previous = this.lines[index - 1];
    const newAttempt = previous !== undefined && previous.attempt !== line.attempt;
    const text = el("span", { class: "text" });
    // ansi_up escapes the text itself; a line without escapes goes in as plain text.
    if (hasAnsi(line.text)) text.innerHTML = ansiLineHtml(line.text);
    else text.textContent = line.text;
    return el(
      "div",
      {
        class: `line stream-${line.stream}${newAttempt ? " new-attempt" : ""}`,
        title: `attempt ${line.attempt} · ${line.stream} · ${clockTime(line.ts)}`,
        attrs: { "data-seq": String(line.seq) },
      },
      el("span", { class: "seq", text: String(line.seq) }),
      text,
    );
  }

  private async copy(): Promise<void> {
    const count = this.lines.length;
    const copied = await copyText(logPlainText(this.lines));
    this.actionStatus.textContent = copied
      ? `copied ${count} ${count === 1 ? "line" : "lines"}`
      : "the browser did not allow copying: use download instead";
  }

  private scrollToEnd(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Scrolling up stops following; scrolling back to the end resumes it. */
  private onScroll(): void {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    this.followBox.checked = scrollHeight - scrollTop - clientHeight <= AT_END_PX;
    this.schedule();
  }
}
