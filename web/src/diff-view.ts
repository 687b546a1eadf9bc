// An attempt's diff on the task page: fetched from `GET /api/tasks/<id>/diff?attempt=N` with the
// page's link, shown as text with added and removed lines coloured. Every line goes in as text, so
// nothing in a diff is ever read as HTML.
import { callApi, taskPath } from "./api-request.ts";
import { MAX_SHOWN_DIFF_LINES, diffLines } from "./diff-lines.ts";
import { el } from "./element.ts";
import { refusalText, unreachableText } from "./work-facts.ts";

export class DiffView {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly text: HTMLPreElement;
  /** The attempt shown (or being fetched); a late answer for another one is dropped. */
  private attempt: number | undefined;

  constructor(
    private readonly taskId: string,
    private readonly token: string,
  ) {
    this.title = el("h4", { class: "diff-heading", testid: "work-diff-title", text: "Diff" });
    this.text = el("pre", { class: "work-diff", testid: "work-diff" });
    this.element = el("div", { class: "work-diff-box" }, this.title, this.text);
    this.element.hidden = true;
  }

  /** The attempt whose diff is shown, if any. */
  shown(): number | undefined {
    return this.attempt;
  }

  async show(attempt: number, truncated: boolean): Promise<void> {
    this.attempt = attempt;
    this.element.hidden = false;
    const path = `${taskPath(this.taskId, "diff")}?attempt=${attempt}`;
    this.title.textContent = `Diff of attempt ${attempt}`;
    this.text.replaceChildren(`loading the diff of attempt ${attempt}…`);
    const answer = await callApi(path, this.token);
    if (this.attempt !== attempt) return;
    if (!answer.answered) return void this.text.replaceChildren(unreachableText(answer.error));
    if (!answer.ok) return void this.text.replaceChildren(`The diff of attempt ${attempt} is not available: ${refusalText(answer.status, answer.body)}`);
    const lines = diffLines(answer.body);
    if (lines.length === 0) return void this.text.replaceChildren(`attempt ${attempt} changed nothing`);
    const shown = lines.slice(0, MAX_SHOWN_DIFF_LINES).map((line) => el("span", { class: `diff-line diff-${line.kind}`, text: `${line.text}\n` }));
    const notes: HTMLElement[] = [];
    if (lines.length > MAX_SHOWN_DIFF_LINES) notes.push(el("span", { class: "diff-note", text: `… ${lines.length - MAX_SHOWN_DIFF_LINES} more lines not shown: GET ${path} gives all of it\n` }));
    if (truncated) notes.push(el("span", { class: "diff-note", text: "The stored diff stops at the size cap (at a file boundary); the attempt's branch holds all of it.\n" }));
    this.text.replaceChildren(...shown, ...notes);
  }
}
