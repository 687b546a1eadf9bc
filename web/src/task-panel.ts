// The task panel: id, name, status badge, tier, instruction, the attempts table, the task's path as
// a picture (task-path-view.ts); then what the page puts below them (the attempts' work, the live log).
import type { AcceptanceEvidence, Attempt, TaskRecord } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { emptyRow, headRow, labelCells } from "./table-rows.ts";
import { TaskPathView } from "./task-path-view.ts";
import { duration } from "./time-format.ts";
import { acceptanceText } from "./work-facts.ts";

const ATTEMPT_COLUMNS = [
  "#",
  "tier",
  "agent",
  "executor",
  "status",
  "class",
  "exit",
  "latency",
  "tokens",
  "cost",
  "acceptance",
];

/** Instructions longer than this start collapsed. */
const COLLAPSE_AFTER_CHARS = 280;
const COLLAPSE_AFTER_LINES = 4;

export class TaskPanel {
  readonly element: HTMLElement;
  private readonly nameLine: HTMLElement;
  private readonly status: HTMLSpanElement;
  private readonly tier: HTMLSpanElement;
  private readonly facts: HTMLDListElement;
  private readonly instruction: HTMLDivElement;
  private readonly instructionText: HTMLPreElement;
  private readonly instructionToggle: HTMLButtonElement;
  private readonly problem: HTMLDivElement;
  private readonly output: HTMLDetailsElement;
  private readonly outputText: HTMLPreElement;
  private readonly attempts: HTMLTableSectionElement;
  private readonly diagram = new TaskPathView();
  /** Everything the snapshot fills in: hidden until the first one arrives. */
  private readonly details: HTMLDivElement;

  /**
   * `below`: sections shown under the attempts table, in order (the work panel, the log);
   * `actions`: what the page's credential may do to the task, beside its status.
   */
  constructor(taskId: string, below: HTMLElement[], actions?: HTMLElement) {
    this.nameLine = el(
      "h2",
      { class: "task-title" },
      el("code", { class: "task-id", testid: "task-id", text: taskId }),
    );
    this.status = el("span", {
      class: "badge status-unknown",
      testid: "task-status",
      text: "loading",
      attrs: { "data-status": "" },
    });
    this.tier = el("span", { class: "tier", testid: "task-tier" });
    this.facts = el("dl", { class: "facts" });
    this.instructionText = el("pre", { class: "instruction-text", testid: "task-instruction" });
    this.instructionToggle = el("button", { class: "link-button", text: "show all", attrs: { type: "button" } });
    this.instructionToggle.addEventListener("click", () => {
      const collapsed = this.instruction.classList.toggle("collapsed");
      this.instructionToggle.textContent = collapsed ? "show all" : "show less";
    });
    this.instruction = el("div", { class: "instruction collapsed" }, this.instructionText, this.instructionToggle);
    this.problem = el("div", { class: "task-error", testid: "task-error" });
    this.problem.hidden = true;
    this.outputText = el("pre", { class: "output-text" });
    this.output = el("details", { class: "task-output" }, el("summary", { text: "output" }), this.outputText);
    this.output.hidden = true;
    this.attempts = el("tbody", { testid: "attempts" });
    // On a narrow screen each attempt is a stack of named cells (docs/page.md "Narrow screens").
    const attemptsTable = el(
      "div",
      { class: "table-scroll" },
      el("table", { class: "attempts stack-table" }, el("thead", {}, headRow(ATTEMPT_COLUMNS)), this.attempts),
    );
    const head = el(
      "div",
      { class: "task-head" },
      this.nameLine,
      this.status,
      this.tier,
      ...(actions === undefined ? [] : [actions]),
    );
    this.details = el(
      "div",
      { class: "task-details" },
      this.facts,
      this.instruction,
      this.problem,
      this.output,
      el("h3", { text: "Attempts" }),
      attemptsTable,
      this.diagram.element,
    );
    this.details.hidden = true;
    this.element = el("section", { class: "panel task-panel", testid: "task-panel" }, head, this.details, ...below);
  }

  show(task: TaskRecord): void {
    this.details.hidden = false;
    const name = this.nameLine.querySelector(".task-name");
    if (task.name !== undefined && name === null)
      this.nameLine.prepend(el("span", { class: "task-name", testid: "task-name", text: task.name }), " ");
    this.status.textContent = task.status.replace("_", " ");
    this.status.className = `badge status-${task.status}`;
    this.status.dataset.status = task.status;
    this.tier.textContent = `tier ${task.tier}`;
    this.facts.replaceChildren(
      ...(task.waiting === undefined ? [] : fact("waiting", waitingText(task.waiting), "task-waiting")),
      ...(task.routing === undefined ? [] : fact("routing", `${task.routing.tier} by ${task.routing.rule}`)),
      ...(task.priority === undefined ? [] : fact("priority", String(task.priority))),
      ...(task.kind === undefined ? [] : fact("kind", task.kind)),
      ...((task.after ?? []).length === 0 ? [] : fact("after", (task.after ?? []).join(", "))),
      ...fact("agents", selectorText(task)),
      ...(task.cwd === undefined ? [] : fact("cwd", task.cwd)),
      ...fact("tokens", `${task.tokens.input} in · ${task.tokens.output} out`),
      ...fact("cost", `$${task.cost_usd.toFixed(4)}`),
      ...(task.latency_ms > 0 ? fact("latency", duration(task.latency_ms)) : []),
      ...fact("created", new Date(task.created_at).toLocaleString()),
      // The W3C trace id, to find the task's spans in a tracing backend (docs/traces.md).
      ...(task.trace_id === undefined ? [] : fact("trace", task.trace_id, "task-trace-id")),
    );
    if (this.instructionText.textContent !== task.instruction) {
      this.instructionText.textContent = task.instruction;
      const long =
        task.instruction.length > COLLAPSE_AFTER_CHARS || task.instruction.split("\n").length > COLLAPSE_AFTER_LINES;
      this.instructionToggle.hidden = !long;
      this.instruction.classList.toggle("collapsed", long);
      this.instructionToggle.textContent = "show all";
    }
    this.problem.hidden = task.error === undefined;
    this.problem.replaceChildren(
      ...(task.error ? [el("code", { text: task.error.code }), " ", task.error.message] : []),
    );
    this.output.hidden = task.output === undefined || task.output === "";
    if (task.output !== undefined && this.outputText.textContent !== task.output)
      this.outputText.textContent = task.output;
    this.attempts.replaceChildren(
      ...(task.attempts.length > 0
        ? task.attempts.flatMap(attemptRows)
        : [emptyRow(ATTEMPT_COLUMNS.length, "no attempts yet")]),
    );
    this.diagram.show(task);
    document.title = `${task.status.replace("_", " ")} · ${task.name ?? task.task_id} · agent-mesh`;
  }

  /** The room will not show this task (a refused link, no such task): no snapshot is coming. */
  unavailable(): void {
    if (!this.details.hidden) return;
    this.status.textContent = "unavailable";
    this.status.dataset.status = "";
  }
}

/** An attempt's row, and below it a full-width row with its acceptance evidence when it has any. */
function attemptRows(attempt: Attempt): HTMLTableRowElement[] {
  const exit = attempt.exit_code !== undefined ? String(attempt.exit_code) : (attempt.signal ?? "");
  const executor = attempt.model === undefined ? attempt.executor : `${attempt.executor} (${attempt.model})`;
  const ended = attempt.status !== "dispatched" && attempt.status !== "running";
  const evidence = attempt.acceptance;
  const { input, output } = attempt.tokens;
  const row = el(
    "tr",
    { attrs: { "data-attempt": String(attempt.n) } },
    cell(String(attempt.n)),
    cell(attempt.tier),
    cell(attempt.agent ?? "waiting for an agent", attempt.agent === null ? "dim" : undefined),
    cell(executor),
    el("td", {}, el("span", { class: `badge small status-${attempt.status}`, text: attempt.status })),
    cell(attempt.failure_class ?? "", "failure-class"),
    cell(exit),
    cell(ended || attempt.latency_ms > 0 ? duration(attempt.latency_ms) : ""),
    el("td", { class: "number", text: input + output > 0 ? `${input} in · ${output} out` : "" }),
    el("td", { class: "number", text: attempt.cost_usd > 0 ? `$${attempt.cost_usd.toFixed(4)}` : "" }),
    el(
      "td",
      {},
      ...(evidence === undefined
        ? []
        : [
            el("span", {
              class: `check ${evidence.passed ? "passed" : "failed"}`,
              text: evidence.passed ? "passed" : "failed",
            }),
          ]),
    ),
  );
  labelCells(row, ATTEMPT_COLUMNS);
  return evidence === undefined ? [row] : [row, evidenceRow(attempt.n, evidence)];
}

/**
 * The acceptance check's command, exit and output tail; a failed check opens by itself, as its output is why the
 * attempt failed.
 */
function evidenceRow(n: number, evidence: AcceptanceEvidence): HTMLTableRowElement {
  const details = el(
    "details",
    { class: `acceptance ${evidence.passed ? "passed" : "failed"}`, testid: `acceptance-${n}` },
    el("summary", { text: `#${n} ${acceptanceText(evidence)}` }),
    el("pre", { text: evidence.output_tail === "" ? "(no output)" : evidence.output_tail }),
  );
  details.open = !evidence.passed;
  return el(
    "tr",
    { class: "evidence", attrs: { "data-evidence": String(n) } },
    el("td", { attrs: { colspan: String(ATTEMPT_COLUMNS.length) } }, details),
  );
}

function selectorText(task: TaskRecord): string {
  const selector = task.agent_selector;
  if (selector.by === "name") return `only ${selector.name}`;
  if (selector.by === "kind") return `${selector.kind} only`;
  if (selector.by === "prefer") return `prefer ${selector.kind}`;
  return "any";
}

function fact(term: string, value: string, testid?: string): HTMLElement[] {
  return [
    el("div", {}, el("dt", { text: term }), el("dd", testid === undefined ? { text: value } : { text: value, testid })),
  ];
}

/** What a queued task waits for (docs/scheduling.md): an agent for its tier, or other tasks. */
function waitingText(waiting: NonNullable<TaskRecord["waiting"]>): string {
  const since = new Date(waiting.since).toLocaleTimeString();
  return waiting.for === "agent"
    ? `an agent that serves ${waiting.tier ?? "its tier"} (since ${since})`
    : `task(s) ${(waiting.ids ?? []).join(", ")} to succeed (since ${since})`;
}

function cell(text: string, className?: string): HTMLTableCellElement {
  return el("td", className === undefined ? { text } : { text, class: className });
}
