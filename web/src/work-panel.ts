// The work of a task on its page: each attempt's worktree, branch, commit and diff stat;
// the diff of one attempt (the result's, until the person picks another); the task's result, the
// consensus's reasons, whether it was applied; and, for a credential that may act, apply (after a
// confirmation naming where it merges).
import type { Attempt, TaskRecord } from "../../protocol/index.ts";
import { callApi, taskPath } from "./api-request.ts";
import { DiffView } from "./diff-view.ts";
import { el } from "./element.ts";
import { workAttemptRow } from "./work-attempt-row.ts";
import {
  appliedReplyText,
  appliedText,
  applyAvailability,
  applyQuestion,
  deliveryFacts,
  refusalText,
  resultText,
  unreachableText,
} from "./work-facts.ts";

export class WorkPanel {
  readonly element: HTMLElement;
  private readonly result: HTMLParagraphElement;
  private readonly consensus: HTMLElement;
  private readonly applied: HTMLParagraphElement;
  /** A repo task's pushed branch and pull request link (docs/delivery.md). */
  private readonly delivery: HTMLParagraphElement;
  private readonly attempts: HTMLElement;
  /** Absent for a read-only link. `confirm` asks before anything merges, naming where. */
  private readonly apply: {
    button: HTMLButtonElement;
    note: HTMLSpanElement;
    confirm: HTMLElement;
    question: HTMLParagraphElement;
    yes: HTMLButtonElement;
  } | null;
  private readonly applyOutcome: HTMLParagraphElement;
  private readonly diff: DiffView;
  private task: TaskRecord | null = null;
  /** The person chose an attempt's diff: the panel stops following the result's. */
  private chosen = false;
  private applying = false;

  /** `canApply`: the page's token may apply (the orchestrator token or an operator link). */
  constructor(
    private readonly taskId: string,
    private readonly token: string,
    canApply: boolean,
  ) {
    this.result = el("p", { class: "work-result", testid: "work-result" });
    this.consensus = el("div", { class: "work-consensus", testid: "work-consensus" });
    this.applied = el("p", { class: "work-applied", testid: "work-applied" });
    this.delivery = el("p", { class: "work-delivery", testid: "work-delivery" });
    this.attempts = el("div", { class: "work-attempts", testid: "work-attempts" });
    this.applyOutcome = el("p", {
      class: "work-apply-outcome",
      testid: "work-apply-outcome",
      attrs: { role: "status" },
    });
    const actions: HTMLElement[] = [];
    if (canApply) {
      const button = el("button", {
        text: "apply to my checkout",
        attrs: { type: "button", "data-testid": "work-apply" },
      });
      button.disabled = true;
      button.addEventListener("click", () => this.askToApply());
      const note = el("span", { class: "work-apply-note", testid: "work-apply-note" });
      const question = el("p", { class: "apply-question", testid: "work-apply-question" });
      const yes = el("button", {
        class: "primary",
        text: "merge it",
        attrs: { type: "button", "data-testid": "work-apply-confirm" },
      });
      const no = el("button", { text: "cancel", attrs: { type: "button", "data-testid": "work-apply-cancel" } });
      const confirm = el(
        "div",
        {
          class: "apply-confirm",
          testid: "work-apply-confirm-box",
          attrs: { role: "group", "aria-label": "confirm apply" },
        },
        question,
        el("div", { class: "apply-confirm-buttons" }, yes, no),
      );
      confirm.hidden = true;
      yes.addEventListener("click", () => {
        confirm.hidden = true;
        void this.applyResult();
      });
      no.addEventListener("click", () => this.cancelApply());
      confirm.addEventListener("keydown", (event) => {
        if (event.key === "Escape") this.cancelApply();
      });
      this.apply = { button, note, confirm, question, yes };
      actions.push(el("div", { class: "work-actions" }, button, " ", note), confirm, this.applyOutcome);
    } else this.apply = null;
    this.diff = new DiffView(taskId, token);
    this.element = el(
      "section",
      { class: "work", testid: "work" },
      el("h3", { text: "Work" }),
      this.result,
      this.delivery,
      this.consensus,
      this.applied,
      ...actions,
      this.attempts,
      this.diff.element,
    );
    this.element.hidden = true;
  }

  show(task: TaskRecord): void {
    this.task = task;
    // Tasks from before work isolation (docs/work-isolation.md), or still waiting for their first attempt, have no work
    // to show.
    const worked = task.attempts.filter((attempt) => attempt.isolation !== undefined);
    this.element.hidden = worked.length === 0 && task.result === undefined;
    if (this.element.hidden) return;
    this.result.textContent = resultText(task);
    this.consensus.replaceChildren(
      ...(task.consensus === undefined
        ? []
        : [
            el("span", { text: `consensus picked attempt ${task.consensus.winner}:` }),
            el("ul", {}, ...task.consensus.reasons.map((reason) => el("li", { text: reason }))),
          ]),
    );
    const delivery = deliveryFacts(task);
    this.delivery.hidden = delivery === null;
    const prLink =
      delivery?.prUrl === undefined
        ? []
        : [
            " · ",
            el("a", {
              text: "draft pull request",
              title: delivery.prUrl,
              testid: "work-pr-link",
              attrs: { href: delivery.prUrl, target: "_blank", rel: "noopener noreferrer" },
            }),
          ];
    this.delivery.replaceChildren(...(delivery === null ? [] : [delivery.text, ...prLink]));
    const applied = appliedText(task);
    this.applied.hidden = applied === null;
    this.applied.textContent = applied ?? "";
    if (this.apply !== null) {
      const availability = applyAvailability(task);
      this.apply.button.disabled = this.applying || !availability.enabled;
      // Applied meanwhile (another page, the API): there is nothing left to confirm.
      if (!availability.enabled) this.apply.confirm.hidden = true;
      this.apply.note.textContent = availability.note;
    }
    const preferred = this.chosen ? undefined : preferredAttempt(task);
    if (preferred !== undefined && preferred.n !== this.diff.shown())
      void this.diff.show(preferred.n, preferred.diff_truncated === true);
    this.attempts.replaceChildren(
      ...worked.map((attempt) =>
        workAttemptRow(attempt, attempt.n === this.diff.shown(), (picked) => this.pick(picked)),
      ),
    );
  }

  private pick(attempt: Attempt): void {
    this.chosen = true;
    void this.diff.show(attempt.n, attempt.diff_truncated === true);
    if (this.task !== null) this.show(this.task);
  }

  /** The first click only asks: merging changes the person's checkout (docs/page.md "Apply"). */
  private askToApply(): void {
    if (this.apply === null || this.task === null) return;
    this.apply.question.textContent = applyQuestion(this.task);
    this.apply.confirm.hidden = false;
    this.applyOutcome.textContent = "";
    this.apply.yes.focus();
  }

  private cancelApply(): void {
    if (this.apply === null) return;
    this.apply.confirm.hidden = true;
    this.applyOutcome.textContent = "Not applied: nothing changed.";
    this.apply.button.focus();
  }

  private async applyResult(): Promise<void> {
    if (this.apply === null) return;
    const before = this.task?.applied;
    this.applying = true;
    this.apply.button.disabled = true;
    this.applyOutcome.textContent = "applying: the agent that ran the attempt merges its branch into your checkout…";
    const answer = await callApi(taskPath(this.taskId, "apply"), this.token, { method: "POST" });
    this.applying = false;
    if (!answer.answered) this.applyOutcome.textContent = unreachableText(answer.error);
    else if (!answer.ok)
      this.applyOutcome.textContent = `Not applied, nothing changed: ${refusalText(answer.status, answer.body)}`;
    else this.applyOutcome.textContent = appliedReplyText(answer.body, before);
    // The room sends the applied task to every viewer too; until then the page keeps what it knows.
    if (this.task !== null) this.show(this.task);
    if (answer.answered && answer.ok) this.apply.button.disabled = true;
  }
}

/** The attempt whose diff the page shows by itself: the result's, else the newest with a commit. */
function preferredAttempt(task: TaskRecord): Attempt | undefined {
  const withCommit = task.attempts.filter((attempt) => attempt.commit !== undefined);
  return withCommit.find((attempt) => attempt.n === task.result?.attempt) ?? withCommit.at(-1);
}
