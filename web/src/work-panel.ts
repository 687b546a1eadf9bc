// The work of a task on its page (issue 12): each attempt's branch, commit, diff stat and acceptance
// evidence, the diff of a chosen attempt (coloured; text only, escaped by the DOM), the task's result,
// the consensus's reasons, and an apply button for a credential allowed to use it.
import type { Attempt, TaskRecord } from "../../protocol/index.ts";
import { MAX_SHOWN_DIFF_LINES, diffLineKind } from "./diff-lines.ts";
import { el } from "./element.ts";

export class WorkPanel {
  readonly element: HTMLElement;
  private readonly attempts: HTMLElement;
  private readonly summary: HTMLParagraphElement;
  private readonly diff: HTMLPreElement;
  private readonly applyButton: HTMLButtonElement;
  private readonly result: HTMLParagraphElement;
  private shownAttempt: number | undefined;
  private task: TaskRecord | null = null;

  /** `canApply`: the page's token may apply (the orchestrator token or an operator link). */
  constructor(
    private readonly taskId: string,
    private readonly token: string,
    canApply: boolean,
  ) {
    this.summary = el("p", { class: "work-summary", testid: "work-summary" });
    this.attempts = el("div", { class: "work-attempts", testid: "work-attempts" });
    this.diff = el("pre", { class: "work-diff", testid: "work-diff" });
    this.result = el("p", { class: "work-result", testid: "work-apply-result" });
    this.applyButton = el("button", { text: "apply to the checkout", attrs: { type: "button", "data-testid": "work-apply" } });
    this.applyButton.disabled = true;
    this.applyButton.hidden = !canApply;
    this.applyButton.addEventListener("click", () => void this.apply());
    this.element = el("section", { class: "work", testid: "work" }, el("h3", { text: "Work" }), this.summary, this.attempts, el("div", { class: "work-actions" }, this.applyButton), this.result, this.diff);
    this.element.hidden = true;
  }

  show(task: TaskRecord): void {
    this.task = task;
    const isolated = task.attempts.filter((a) => a.isolation !== undefined);
    this.element.hidden = isolated.length === 0;
    if (isolated.length === 0) return;
    const parts: string[] = [];
    if (task.result?.branch !== undefined) parts.push(`result: attempt ${task.result.attempt} on ${task.result.branch} (${task.result.commit?.slice(0, 12)} from ${task.result.base?.slice(0, 12)})`);
    if (task.consensus !== undefined) parts.push(`consensus picked attempt ${task.consensus.winner}: ${task.consensus.reasons.join("; ")}`);
    if (task.applied !== undefined) parts.push(`applied: the checkout is at ${task.applied.commit.slice(0, 12)}`);
    this.summary.textContent = parts.join(" · ") || "no result yet";
    this.attempts.replaceChildren(...isolated.map((a) => this.attemptRow(a)));
    this.applyButton.disabled = task.status !== "succeeded" || task.applied !== undefined || task.result?.commit === undefined;
    const preferred = task.result?.attempt ?? isolated.at(-1)?.n;
    if (this.shownAttempt === undefined && preferred !== undefined && isolated.some((a) => a.n === preferred && a.commit !== undefined)) void this.showDiff(preferred);
  }

  private attemptRow(attempt: Attempt): HTMLElement {
    const stat = attempt.diff_stat === undefined ? "" : ` · ${attempt.diff_stat.files} files +${attempt.diff_stat.insertions} -${attempt.diff_stat.deletions}${attempt.diff_truncated ? " (diff cut at the size cap)" : ""}`;
    const where = attempt.isolation === "none" ? "ran in place (no git repository)" : `${attempt.branch ?? ""}${attempt.commit ? ` @ ${attempt.commit.slice(0, 12)}` : attempt.status === "running" ? "" : " (no change)"}`;
    const row = el("div", { class: "work-attempt", testid: `work-attempt-${attempt.n}` }, el("strong", { text: `#${attempt.n} ${attempt.tier}` }), ` ${where}${stat}`);
    if (attempt.acceptance !== undefined) {
      const evidence = el("details", { class: "work-acceptance" }, el("summary", { text: `acceptance \`${attempt.acceptance.command}\`: ${attempt.acceptance.passed ? "passed" : "failed"} (exit ${attempt.acceptance.exit_code ?? "none"})` }), el("pre", { text: attempt.acceptance.output_tail || "(no output)" }));
      row.append(evidence);
    }
    if (attempt.commit !== undefined) {
      const button = el("button", { text: "diff", attrs: { type: "button", "data-testid": `work-diff-${attempt.n}` } });
      button.addEventListener("click", () => void this.showDiff(attempt.n));
      row.append(" ", button);
    }
    return row;
  }

  private async showDiff(n: number): Promise<void> {
    this.shownAttempt = n;
    this.diff.replaceChildren(`loading the diff of attempt ${n}…`);
    try {
      const response = await fetch(`/api/tasks/${encodeURIComponent(this.taskId)}/diff?attempt=${n}`, { headers: { authorization: `Bearer ${this.token}` } });
      const text = await response.text();
      if (!response.ok) {
        this.diff.replaceChildren(`the diff of attempt ${n} is not available (${response.status}): ${text.slice(0, 300)}`);
        return;
      }
      const lines = text.split("\n");
      const shown = lines.slice(0, MAX_SHOWN_DIFF_LINES).map((line) => el("span", { class: `diff-${diffLineKind(line)}`, text: `${line}\n` }));
      const rest = lines.length > MAX_SHOWN_DIFF_LINES ? [el("span", { class: "diff-meta", text: `… ${lines.length - MAX_SHOWN_DIFF_LINES} more lines: GET /api/tasks/${this.taskId}/diff?attempt=${n}\n` })] : [];
      this.diff.replaceChildren(el("span", { class: "diff-title", text: `attempt ${n}\n` }), ...shown, ...rest);
    } catch (error) {
      this.diff.replaceChildren(`the mesh did not answer (${error instanceof Error ? error.message : String(error)}); try again`);
    }
  }

  private async apply(): Promise<void> {
    this.applyButton.disabled = true;
    this.result.textContent = "applying…";
    try {
      const response = await fetch(`/api/tasks/${encodeURIComponent(this.taskId)}/apply`, { method: "POST", headers: { authorization: `Bearer ${this.token}` } });
      const reply = (await response.json()) as { applied?: { commit: string }; error?: { code: string; message: string } };
      this.result.textContent = response.ok ? `applied: the checkout is at ${reply.applied?.commit.slice(0, 12) ?? "?"}` : `${reply.error?.code ?? response.status}: ${reply.error?.message ?? "refused"}`;
    } catch (error) {
      this.result.textContent = `the mesh did not answer (${error instanceof Error ? error.message : String(error)}); try again`;
    } finally {
      if (this.task !== null) this.show(this.task);
    }
  }
}
