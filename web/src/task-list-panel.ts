// The dashboard's task list (docs/page.md): a status filter, a search box, and a virtualised list of
// rows (only those in view are in the DOM, so 10,000 tasks scroll as smoothly as ten). Each row is a
// link to its task's page; arrow keys, Home/End and Page Up/Down move through the list.
import { TaskStatus, type TaskSummary } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { rowWindow, scrollToShow } from "./row-window.ts";
import type { TaskListModel, TaskListQuery } from "./task-list-model.ts";
import { ago } from "./time-format.ts";

/** Every row's height in px; page.css's `.task-row` has the same (a virtualised list needs one). */
const ROW_PX = 40;
/** Rows the list shows before it scrolls. */
const VISIBLE_ROWS = 12;

const statusLabel = (status: TaskStatus): string => status.replace("_", " ");

export class TaskListPanel {
  readonly element: HTMLElement;
  private readonly statusSelect: HTMLSelectElement;
  private readonly searchInput: HTMLInputElement;
  private readonly scroller: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly summary: HTMLSpanElement;
  private readonly empty: HTMLParagraphElement;
  private query: TaskListQuery = { status: "all", search: "" };
  /** The rows the query leaves, in order; recomputed when the model or the query changes. */
  private rows: TaskSummary[] = [];
  /** The row the keyboard is on (roving tabindex: the one row Tab reaches). */
  private active = 0;
  private frameRequested = false;
  private stale = true;
  private received = false;

  /** `linkFor`: the page link that opens a task. */
  constructor(
    private readonly model: TaskListModel,
    private readonly linkFor: (taskId: string) => string,
  ) {
    this.statusSelect = el("select", { testid: "task-filter", attrs: { "aria-label": "show tasks with status" } });
    this.statusSelect.addEventListener("change", () =>
      this.setQuery({ ...this.query, status: this.statusSelect.value as TaskListQuery["status"] }),
    );
    this.searchInput = el("input", {
      testid: "task-search",
      attrs: {
        type: "search",
        placeholder: "search name or instruction",
        "aria-label": "search tasks by name or words of the instruction",
      },
    });
    this.searchInput.addEventListener("input", () => this.setQuery({ ...this.query, search: this.searchInput.value }));
    this.summary = el("span", { class: "list-summary", testid: "task-count", attrs: { "aria-live": "polite" } });
    this.spacer = el("div", { class: "task-rows" });
    this.scroller = el(
      "div",
      {
        class: "task-list",
        testid: "task-list",
        attrs: { role: "list", "aria-label": "tasks", style: `max-height: ${ROW_PX * VISIBLE_ROWS}px` },
      },
      this.spacer,
    );
    this.scroller.addEventListener("scroll", () => this.schedule(false), { passive: true });
    this.scroller.addEventListener("keydown", (event) => this.onKey(event));
    this.empty = el("p", { class: "list-empty", testid: "task-list-empty", text: "waiting for the task list…" });
    this.renderFilter();
    this.element = el(
      "section",
      { class: "panel tasks-panel", testid: "tasks-panel" },
      el(
        "div",
        { class: "panel-head" },
        el("h2", { text: "Tasks" }),
        this.summary,
        el("div", { class: "list-controls" }, this.statusSelect, this.searchInput),
      ),
      this.empty,
      this.scroller,
    );
    // Ages count up between changes.
    setInterval(() => this.schedule(false), 10_000);
  }

  /** The model changed: recompute the rows on the next frame. */
  changed(): void {
    this.received = true;
    this.schedule(true);
  }

  /** The directory refused this page's credential: no list is coming. */
  unavailable(): void {
    if (!this.received) this.empty.textContent = "the task list is not available with this link";
  }

  private setQuery(query: TaskListQuery): void {
    this.query = query;
    this.active = 0;
    this.scroller.scrollTop = 0;
    this.schedule(true);
  }

  private schedule(recompute: boolean): void {
    this.stale ||= recompute;
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      if (this.stale) this.recompute();
      this.renderWindow();
    });
  }

  private recompute(): void {
    this.stale = false;
    this.rows = this.model.rows(this.query);
    this.active = Math.min(this.active, Math.max(0, this.rows.length - 1));
    this.spacer.style.height = `${this.rows.length * ROW_PX}px`;
    this.renderFilter();
    const total = this.model.size;
    const filtered = this.query.status !== "all" || this.query.search.trim() !== "";
    this.summary.textContent = filtered
      ? `${this.rows.length} of ${total}`
      : `${total} ${total === 1 ? "task" : "tasks"}${this.model.more ? " (the newest; older ones: GET /api/tasks)" : ""}`;
    this.summary.dataset.count = String(this.rows.length);
    this.empty.hidden = this.rows.length > 0;
    this.scroller.hidden = this.rows.length === 0;
    if (this.received)
      this.empty.textContent =
        total === 0
          ? "No tasks yet: create one with the MCP tool execute or POST /api/tasks."
          : "No task matches this filter and search.";
  }

  /** Puts the rows in view (and the keyboard's row) into the DOM, nothing else. */
  private renderWindow(): void {
    const { start, end } = rowWindow(
      this.scroller.scrollTop,
      this.scroller.clientHeight || ROW_PX * VISIBLE_ROWS,
      ROW_PX,
      this.rows.length,
      8,
    );
    const now = Date.now();
    const focused = document.activeElement instanceof HTMLElement && this.spacer.contains(document.activeElement);
    // The one row Tab reaches: the keyboard's, or the first in view when that one scrolled away.
    const tabbable = this.active >= start && this.active < end ? this.active : start;
    const children: HTMLElement[] = [];
    for (let index = start; index < end; index++) {
      const task = this.rows[index];
      if (task !== undefined) children.push(this.row(task, index, index === tabbable, now));
    }
    this.spacer.replaceChildren(...children);
    if (focused) this.focusActive();
  }

  private row(task: TaskSummary, index: number, tabbable: boolean, now: number): HTMLAnchorElement {
    const title = task.name ?? task.instruction.split("\n")[0] ?? task.task_id;
    const row = el(
      "a",
      {
        class: `task-row${task.status === "awaiting_human" ? " pinned" : ""}`,
        title: task.instruction,
        attrs: {
          href: this.linkFor(task.task_id),
          role: "listitem",
          "data-task": task.task_id,
          "data-status": task.status,
          tabindex: tabbable ? "0" : "-1",
          style: `top: ${index * ROW_PX}px`,
        },
      },
      el("span", { class: `badge small status-${task.status}`, text: statusLabel(task.status) }),
      el(
        "span",
        { class: "task-row-title" },
        task.name === undefined ? "" : el("strong", { text: task.name }),
        task.name === undefined ? title : ` ${task.instruction.split("\n")[0] ?? ""}`,
      ),
      el("span", { class: "task-row-tier", text: task.tier }),
      el("span", { class: "task-row-agent", text: task.agent ?? "—" }),
      el("span", {
        class: "task-row-cost",
        text: task.cost_usd === undefined || task.cost_usd === 0 ? "" : `$${task.cost_usd.toFixed(4)}`,
      }),
      el("span", {
        class: "task-row-age",
        text: ago(task.created_at, now),
        title: new Date(task.created_at).toLocaleString(),
      }),
    );
    row.addEventListener("focus", () => {
      this.active = index;
    });
    return row;
  }

  private onKey(event: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_PX) - 1);
    const moves: Record<string, number> = {
      ArrowDown: this.active + 1,
      ArrowUp: this.active - 1,
      Home: 0,
      End: this.rows.length - 1,
      PageDown: this.active + page,
      PageUp: this.active - page,
    };
    const next = moves[event.key];
    if (next === undefined || this.rows.length === 0) return;
    event.preventDefault();
    this.active = Math.max(0, Math.min(this.rows.length - 1, next));
    this.scroller.scrollTop = scrollToShow(this.active, this.scroller.scrollTop, this.scroller.clientHeight, ROW_PX);
    this.renderWindow();
    this.focusActive();
  }

  private focusActive(): void {
    const row = this.spacer.querySelector<HTMLElement>(
      `[data-task="${CSS.escape(this.rows[this.active]?.task_id ?? "")}"]`,
    );
    row?.focus({ preventScroll: true });
  }

  /** The options' counts; the options themselves stay, so an open select is not closed by a change. */
  private renderFilter(): void {
    if (this.statusSelect.options.length === 0) {
      for (const value of ["all", ...TaskStatus.options]) this.statusSelect.append(el("option", { attrs: { value } }));
    }
    const counts = this.model.counts();
    for (const option of this.statusSelect.options) {
      const status = TaskStatus.safeParse(option.value);
      option.textContent = status.success
        ? `${statusLabel(status.data)} (${counts.get(status.data) ?? 0})`
        : `all statuses (${this.model.size})`;
    }
  }
}
