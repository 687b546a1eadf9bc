// The live log: batches lines into one DOM write per animation frame and keeps only the newest lines in the DOM.
import type { LogLine } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { clockTime } from "./time-format.ts";

/** Lines kept in the DOM; older ones are dropped so a 100,000-line log stays responsive. */
export const MAX_DOM_LINES = 5000;
/** Within this many pixels of the end counts as "at the end" (follow stays on). */
const AT_END_PX = 24;

export class LogView {
  readonly element: HTMLElement;
  private readonly scroller: HTMLDivElement;
  private readonly linesBox: HTMLDivElement;
  private readonly trimmedNote: HTMLDivElement;
  private readonly counter: HTMLSpanElement;
  private readonly followBox: HTMLInputElement;
  /** Lines waiting for the next frame; never more than the DOM would keep. */
  private pending: LogLine[] = [];
  private frameRequested = false;
  private shown = 0;
  private hidden = 0;
  private total = 0;
  private lastAttempt = 0;

  constructor() {
    this.counter = el("span", { class: "line-count", testid: "line-count", text: "0 lines", attrs: { "data-count": "0" } });
    this.followBox = el("input", { attrs: { type: "checkbox", "data-testid": "follow" } });
    this.followBox.checked = true;
    this.followBox.addEventListener("change", () => {
      if (this.followBox.checked) this.scrollToEnd();
    });
    this.trimmedNote = el("div", { class: "log-trimmed", testid: "log-trimmed" });
    this.trimmedNote.hidden = true;
    this.linesBox = el("div", { class: "log-lines" });
    this.scroller = el("div", { class: "log", testid: "log" }, this.trimmedNote, this.linesBox);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    const toolbar = el(
      "div",
      { class: "log-toolbar" },
      el("h3", { text: "Log" }),
      this.counter,
      el("label", { class: "follow" }, this.followBox, " follow"),
    );
    this.element = el("section", { class: "log-section" }, toolbar, this.scroller);
  }

  /** Queues fresh lines; they reach the DOM on the next animation frame, all in one write. */
  append(lines: readonly LogLine[]): void {
    this.total += lines.length;
    this.pending.push(...lines);
    // A hidden tab gets no frames: hold only what the DOM would keep anyway.
    const excess = this.pending.length - MAX_DOM_LINES;
    if (excess > 0) {
      this.pending.splice(0, excess);
      this.hidden += excess;
    }
    if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  private flush(): void {
    this.frameRequested = false;
    const lines = this.pending;
    this.pending = [];
    const fragment = document.createDocumentFragment();
    for (const line of lines) fragment.append(this.renderLine(line));
    this.linesBox.append(fragment);
    this.shown += lines.length;
    const follow = this.followBox.checked;
    const excess = this.shown - MAX_DOM_LINES;
    if (excess > 0) {
      const heightBefore = follow ? 0 : this.scroller.scrollHeight;
      this.dropOldest(excess);
      // Keep the lines the reader is looking at in place while older ones leave above them.
      if (!follow) this.scroller.scrollTop -= heightBefore - this.scroller.scrollHeight;
    }
    this.trimmedNote.hidden = this.hidden === 0;
    this.trimmedNote.textContent = `${this.hidden} earlier ${this.hidden === 1 ? "line" : "lines"} not shown`;
    this.counter.textContent = `${this.total} ${this.total === 1 ? "line" : "lines"}`;
    this.counter.dataset["count"] = String(this.total);
    if (follow) this.scrollToEnd();
  }

  private dropOldest(count: number): void {
    const first = this.linesBox.firstChild;
    const last = this.linesBox.children[count - 1];
    if (first === null || last === undefined) return;
    const range = document.createRange();
    range.setStartBefore(first);
    range.setEndAfter(last);
    range.deleteContents();
    this.shown -= count;
    this.hidden += count;
  }

  private renderLine(line: LogLine): HTMLDivElement {
    const newAttempt = this.lastAttempt !== 0 && line.attempt !== this.lastAttempt;
    this.lastAttempt = line.attempt;
    return el(
      "div",
      {
        class: `line stream-${line.stream}${newAttempt ? " new-attempt" : ""}`,
        title: `attempt ${line.attempt} · ${line.stream} · ${clockTime(line.ts)}`,
        attrs: { "data-seq": String(line.seq) },
      },
      el("span", { class: "seq", text: String(line.seq) }),
      el("span", { class: "text", text: line.text }),
    );
  }

  private scrollToEnd(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Scrolling up stops following; scrolling back to the end resumes it. */
  private onScroll(): void {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    this.followBox.checked = scrollHeight - scrollTop - clientHeight <= AT_END_PX;
  }
}
