// The task's own action: cancel, for a credential that may act, asking for a second click first; a
// read-only link gets one line saying how to get one that may. (Resolve is in human-step-panel.ts,
// apply in work-panel.ts: each beside what it acts on.)
import { FINISHED_TASK_STATUSES, type TaskRecord } from "../../protocol/index.ts";
import { callApi, taskPath } from "./api-request.ts";
import { el } from "./element.ts";
import { READ_ONLY_NOTE } from "./link-powers.ts";
import { refusalText, unreachableText } from "./work-facts.ts";

/** How long the button waits for the confirming click before it resets. */
const CONFIRM_WINDOW_MS = 5000;

export class TaskActions {
  readonly element: HTMLElement;
  private readonly cancelButton: HTMLButtonElement | null = null;
  private readonly outcome: HTMLParagraphElement;
  private armedTimer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;

  /** `canAct`: the page's token may act (the orchestrator token or an operator link). */
  constructor(
    private readonly taskId: string,
    private readonly token: string,
    canAct: boolean,
  ) {
    this.outcome = el("p", { class: "action-outcome", testid: "task-action-outcome", attrs: { role: "status" } });
    if (!canAct) {
      this.element = el(
        "div",
        { class: "task-actions" },
        el("p", { class: "read-only-note", testid: "read-only-note", text: READ_ONLY_NOTE }),
      );
      return;
    }
    this.cancelButton = el("button", {
      class: "danger",
      text: "cancel task",
      attrs: { type: "button", "data-testid": "task-cancel" },
    });
    this.cancelButton.hidden = true;
    this.cancelButton.addEventListener("click", () => void this.onCancelClick());
    this.element = el("div", { class: "task-actions" }, this.cancelButton, this.outcome);
  }

  show(task: TaskRecord): void {
    if (this.cancelButton === null) return;
    // A finished task has nothing to cancel.
    const finished = FINISHED_TASK_STATUSES.includes(task.status);
    this.cancelButton.hidden = finished;
    if (finished) this.disarm();
  }

  private async onCancelClick(): Promise<void> {
    const button = this.cancelButton;
    if (button === null || this.busy) return;
    if (this.armedTimer === null) {
      button.textContent = "click again to cancel";
      button.classList.add("armed");
      this.outcome.textContent = `Cancelling stops the running attempt and fails nothing else. Click again within ${CONFIRM_WINDOW_MS / 1000} s to confirm.`;
      this.armedTimer = setTimeout(() => {
        this.disarm();
        this.outcome.textContent = "";
      }, CONFIRM_WINDOW_MS);
      return;
    }
    this.disarm();
    this.busy = true;
    button.disabled = true;
    this.outcome.textContent = "cancelling…";
    const answer = await callApi(taskPath(this.taskId, "cancel"), this.token, {
      method: "POST",
      json: { reason: "cancelled from the task page" },
    });
    this.busy = false;
    button.disabled = false;
    if (!answer.answered) this.outcome.textContent = unreachableText(answer.error);
    else if (!answer.ok) this.outcome.textContent = `Not cancelled: ${refusalText(answer.status, answer.body)}`;
    // The room sends the cancelled task to every viewer; the status badge changes with it.
    else this.outcome.textContent = "Cancelled.";
  }

  private disarm(): void {
    if (this.armedTimer !== null) clearTimeout(this.armedTimer);
    this.armedTimer = null;
    if (this.cancelButton === null) return;
    this.cancelButton.textContent = "cancel task";
    this.cancelButton.classList.remove("armed");
  }
}
