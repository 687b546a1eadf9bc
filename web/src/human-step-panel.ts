// The human step on the task page: what the attempts did, and approve / retry (with guidance, at a tier) / reject.
import { ExecutorTier, type TaskRecord } from "../../protocol/index.ts";
import { el } from "./element.ts";

export class HumanStepPanel {
  readonly element: HTMLElement;
  private readonly reason: HTMLParagraphElement;
  private readonly summary: HTMLPreElement;
  private readonly guidance: HTMLTextAreaElement;
  private readonly tier: HTMLSelectElement;
  private readonly result: HTMLParagraphElement;
  private readonly buttons: HTMLButtonElement[];

  /** `canDecide`: the page's token may decide (the orchestrator token or an operator link; others are read-only). */
  constructor(
    private readonly taskId: string,
    private readonly token: string,
    canDecide: boolean,
  ) {
    this.reason = el("p", { class: "human-reason" });
    this.summary = el("pre", { class: "human-summary", testid: "human-summary" });
    this.guidance = el("textarea", { attrs: { rows: "2", placeholder: "guidance for a retry, or why you reject", "data-testid": "human-guidance" } });
    this.tier = el("select", { attrs: { "data-testid": "human-tier", "aria-label": "tier for a retry" } }, el("option", { text: "same tier", attrs: { value: "" } }), ...ExecutorTier.options.map((tier) => el("option", { text: tier, attrs: { value: tier } })));
    this.result = el("p", { class: "human-result", testid: "human-result" });
    this.buttons = (["approve", "retry", "reject"] as const).map((decision) => {
      const button = el("button", { text: decision, attrs: { type: "button", "data-testid": `human-${decision}` } });
      button.disabled = !canDecide;
      button.addEventListener("click", () => void this.decide(decision));
      return button;
    });
    const note = canDecide ? [] : [el("p", { class: "human-note", text: "This link is read-only: open an operator link (the one npm start prints, or POST /api/links with {\"operator\": true}), or call resolve with the orchestrator token, to decide." })];
    this.element = el(
      "section",
      { class: "human-step", testid: "human-step" },
      el("h3", { text: "Waiting for a person" }),
      this.reason,
      this.summary,
      this.guidance,
      el("div", { class: "human-actions" }, this.tier, ...this.buttons),
      ...note,
      this.result,
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

  private async decide(decision: "approve" | "retry" | "reject"): Promise<void> {
    for (const button of this.buttons) button.disabled = true;
    const guidance = this.guidance.value.trim();
    const body = { decision, ...(guidance === "" ? {} : { guidance }), ...(decision === "retry" && this.tier.value !== "" ? { executor: this.tier.value } : {}) };
    try {
      const response = await fetch(`/api/tasks/${encodeURIComponent(this.taskId)}/resolve`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const reply = (await response.json()) as { error?: { code: string; message: string } };
      this.result.textContent = response.ok ? `${decision}: done` : `${reply.error?.code ?? response.status}: ${reply.error?.message ?? "refused"}`;
    } catch (error) {
      this.result.textContent = `the mesh did not answer (${error instanceof Error ? error.message : String(error)}); try again`;
    } finally {
      for (const button of this.buttons) button.disabled = false;
    }
  }
}
