// One attempt's work on the task page: where it ran (worktree, branch, commit, base), its diff stat,
// its acceptance evidence (command, exit code, passed, output tail), and a button for its diff.
import type { Attempt } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { acceptanceText, attemptWorkText } from "./work-facts.ts";

export function workAttemptRow(attempt: Attempt, diffShown: boolean, onDiff: (attempt: Attempt) => void): HTMLElement {
  const row = el(
    "div",
    { class: "work-attempt", testid: `work-attempt-${attempt.n}`, attrs: { "data-attempt": String(attempt.n) } },
    el("strong", { text: `#${attempt.n} ${attempt.tier}` }),
    " ",
    el("span", { class: "work-where", text: attemptWorkText(attempt) }),
  );
  if (attempt.commit !== undefined) {
    const button = el("button", { class: "link-button", text: diffShown ? "diff shown below" : "show diff", attrs: { type: "button", "data-testid": `work-diff-${attempt.n}` } });
    button.disabled = diffShown;
    button.addEventListener("click", () => onDiff(attempt));
    row.append(" ", button);
  }
  const evidence = attempt.acceptance;
  if (evidence !== undefined) {
    // A failed check opens by itself: its output is why the attempt failed.
    const details = el(
      "details",
      { class: `work-acceptance ${evidence.passed ? "passed" : "failed"}`, testid: `work-acceptance-${attempt.n}` },
      el("summary", { text: acceptanceText(evidence) }),
      el("pre", { text: evidence.output_tail === "" ? "(no output)" : evidence.output_tail }),
    );
    details.open = !evidence.passed;
    row.append(details);
  }
  return row;
}
