// The human step on the task page: what the attempts did, and, for a credential that may decide,
// approve / retry (with guidance, at a tier) / reject. A read-only link sees the question only.
import { ExecutorTier, type TaskRecord } from "../../protocol/index.ts";
import { callApi, taskPath } from "./api-request.ts";
import { el } from "./element.ts";
import { refusalText, unreachableText } from "./work-facts.ts";

type Decision = "approve" | "retry" | "reject";

/** What each decision does, said on its button's tooltip. */
const DECISION_HELP: Record<Decision, string> = {
  approve: "accept the last attempt's result as the task's",
  retry: "run another attempt, with your guidance, at the tier chosen (or the same tier)",
  reject: "fail the task, with your guidance as the reason",
};

export class HumanStepPanel {
  readonly element: HTMLElement;
  private readonly reason: HTMLParagraphElement;
  private readonly summary: HTMLPreElement;
  private readonly guidance: HTMLTextAreaElement;
  private readonly tier: HTMLSelectElement;
  private readonly result: HTMLParagraphElement;
  private readonly buttons: HTMLButtonElement[];

  /**
   * `canDecide`: the page's token may decide (the orchestrator token or an operator link); for others the controls are
   * absent.
   */
  constructor(
    private readonly taskId: string,
    private readonly token: string,
    canDecide: boolean,
  ) {
    this.reason = el("p", { class: "human-reason" });
    this.summary = el("pre", { class: "human-summary", testid: "human-summary" });
    this.guidance = el("textarea", {
      attrs: {
        rows: "2",
        placeholder: "guidance for a retry, or why you reject",
        "aria-label": "guidance for a retry, or why you reject",
        "data-testid": "human-guidance",
      },
    });
    this.tier = el(
      "select",
      { attrs: { "data-testid": "human-tier", "aria-label": "tier for a retry" } },
      el("option", { text: "same tier", attrs: { value: "" } }),
      ...ExecutorTier.options.map((tier) => el("option", { text: tier, attrs: { value: tier } })),
    );
    this.result = el("p", { class: "human-result", testid: "human-result", attrs: { role: "status" } });
    this.buttons = (["approve", "retry", "reject"] as const).map((decision) => {
      const button = el("button", {
        text: decision,
        title: DECISION_HELP[decision],
        attrs: { type: "button", "data-testid": `human-${decision}` },
      });
      button.addEventListener("click", () => void this.decide(decision));
      return button;
    });
    const controls = canDecide
      ? [this.guidance, el("div", { class: "human-actions" }, this.tier, ...this.buttons), this.result]
      : [];
    this.element = el(
      "section",
      { class: "human-step", testid: "human-step" },
      el("h3", { text: "Waiting for a person" }),
      this.reason,
      this.summary,
      ...controls,
    );
    this.element.hidden = true;
  }

  show(task: TaskRecord): void {
    const waiting = task.status === "awaiting_human" && task.human !== undefined;
    this.element.hidden = !waiting;
    if (!waiting || task.human === undefined) return;
    this.reason.textContent = task.human.reason;
    this.summary.textContent = task.human.summary;
  }

  private async decide(decision: Decision): Promise<void> {
    for (const button of this.buttons) button.disabled = true;
    const guidance = this.guidance.value.trim();
    const body = {
      decision,
      ...(guidance === "" ? {} : { guidance }),
      ...(decision === "retry" && this.tier.value !== "" ? { executor: this.tier.value } : {}),
    };
    this.result.textContent = `${decision}: sending…`;
    const answer = await callApi(taskPath(this.taskId, "resolve"), this.token, { method: "POST", json: body });
    if (!answer.answered) this.result.textContent = unreachableText(answer.error);
    else if (!answer.ok) this.result.textContent = `Not decided: ${refusalText(answer.status, answer.body)}`;
    // The room sends the task as it goes on; this panel hides once it no longer waits.
    else this.result.textContent = `${decision}: done`;
    for (const button of this.buttons) button.disabled = false;
  }
}
