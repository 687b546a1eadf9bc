// The live log: batches lines into one DOM write per animation frame and keeps only the newest lines in the DOM.
import type { LogLine } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { clockTime } from "./time-format.ts";

/** Lines kept in the DOM; older ones are dropped so a 100,000-line log stays responsive. */
export const MAX_DOM_LINES = 5000;
/**
 * Lines are grouped in chunks of this many, and the browser skips layout and paint of chunks out
 * of view (`content-visibility: auto`): per line, its bookkeeping would cost more than it saves.
 */
const CHUNK_LINES = 200;
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
    this.appendToChunks(lines);
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

  /** Fills the last chunk, then opens new ones: one DocumentFragment per chunk touched. */
  private appendToChunks(lines: readonly LogLine[]): void {
    let next = 0;
    while (next < lines.length) {
      const last = this.linesBox.lastElementChild;
      const open = last instanceof HTMLDivElement && last.childElementCount < CHUNK_LINES ? last : null;
      const chunk = open ?? el("div", { class: "chunk" });
      const take = lines.slice(next, next + CHUNK_LINES - chunk.childElementCount);
      const fragment = document.createDocumentFragment();
      for (const line of take) fragment.append(this.renderLine(line));
      chunk.append(fragment);
      sizeHint(chunk);
      if (open === null) this.linesBox.append(chunk);
      next += take.length;
    }
  }

  /** Removes the oldest `count` lines: whole chunks first, then the head of the next one. */
  private dropOldest(count: number): void {
    let left = count;
    while (left > 0) {
      const chunk = this.linesBox.firstElementChild;
      if (!(chunk instanceof HTMLDivElement)) break;
      const size = chunk.childElementCount;
      if (size <= left) {
        chunk.remove();
        left -= size;
        continue;
      }
      const first = chunk.firstChild;
      const last = chunk.children[left - 1];
      if (first === null || last === undefined) break;
      const range = document.createRange();
      range.setStartBefore(first);
      range.setEndAfter(last);
      range.deleteContents();
      sizeHint(chunk);
      left = 0;
    }
    this.shown -= count - left;
    this.hidden += count - left;
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

/** The height a chunk not yet laid out is assumed to have; once shown, the browser remembers its real one. */
function sizeHint(chunk: HTMLDivElement): void {
  chunk.style.containIntrinsicSize = `auto calc(${chunk.childElementCount} * 1.45em)`;
}
