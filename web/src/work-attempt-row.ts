// One attempt's work on the task page: where it ran (worktree, branch, commit, base), its diff stat,
// and a button for its diff. (Its acceptance evidence is in the attempts table, task-panel.ts.)
import type { Attempt } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { attemptWorkText } from "./work-facts.ts";

export function workAttemptRow(attempt: Attempt, diffShown: boolean, onDiff: (attempt: Attempt) => void): HTMLElement {
  const row = el(
    "div",
    { class: "work-attempt", testid: `work-attempt-${attempt.n}`, attrs: { "data-attempt": String(attempt.n) } },
    el("strong", { text: `#${attempt.n} ${attempt.tier}` }),
    " ",
    el("span", { class: "work-where", text: attemptWorkText(attempt) }),
  );
  if (attempt.commit !== undefined) {
    const button = el("button", {
      class: "link-button",
      text: diffShown ? "diff shown below" : "show diff",
      attrs: { type: "button", "data-testid": `work-diff-${attempt.n}` },
    });
    button.disabled = diffShown;
    button.addEventListener("click", () => onDiff(attempt));
    row.append(" ", button);
  }
  return row;
}
