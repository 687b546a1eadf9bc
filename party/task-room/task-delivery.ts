import type {
  Delivery,
  DeliveryOutcome,
  DeliveryRequest,
  PullRequestText,
  Result,
  TaskRecord,
} from "../../protocol/index.ts";

// Delivering a repo task's result (docs/delivery.md), as pure steps of the task actor: which
// delivery a succeeded task asks of the agent holding its result, the pull request's words, and
// the task once the agent answered. The task stays `succeeded` whatever the remote says.

/** How many characters of the acceptance output a pull request quotes. */
const PR_OUTPUT_CHARS = 3000;
const PR_TITLE_CHARS = 120;

/** The delivery a task asks for now: a succeeded repo task with `deliver` push or pr, whose result left a commit. */
export function deliveryRequestOf(task: TaskRecord): DeliveryRequest | undefined {
  if (task.status !== "succeeded" || task.repo === undefined || task.deliver === undefined || task.deliver === "none")
    return undefined;
  const attempt = task.attempts.find((a) => a.n === task.result?.attempt);
  if (
    attempt?.commit === undefined ||
    attempt.branch === undefined ||
    attempt.checkout === undefined ||
    attempt.agent === null
  )
    return undefined;
  return {
    type: "delivery.request",
    agent: attempt.agent,
    task_id: task.task_id,
    attempt: attempt.n,
    mode: task.deliver,
    repo: task.repo,
    source: attempt.checkout.repo,
    commit: attempt.commit,
    remote_branch: attempt.branch,
    // The remote branch the attempts started from; absent (a tag or sha base): the default branch.
    ...(attempt.checkout.branch === undefined ? {} : { base_ref: attempt.checkout.branch }),
  };
}

/** The draft pull request's title and body: the attempts, the acceptance evidence, the cost and the task's link. */
export function pullRequestText(task: TaskRecord, taskLink: string | undefined): PullRequestText {
  const firstLine =
    task.instruction
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? task.task_id;
  const title = (task.name ?? firstLine).slice(0, PR_TITLE_CHARS);
  const winner = task.attempts.find((a) => a.n === task.result?.attempt);
  const attempts = task.attempts.map(
    (a) =>
      `| ${a.n} | ${a.tier} | ${a.status}${a.failure_class === undefined ? "" : ` (${a.failure_class})`} | $${a.cost_usd.toFixed(4)} |`,
  );
  const acceptance = winner?.acceptance;
  const body = [
    `Opened by agent-mesh for task \`${task.task_id}\`${task.name === undefined ? "" : ` (${task.name})`}.`,
    "",
    `> ${task.instruction.slice(0, 2000).split("\n").join("\n> ")}`,
    "",
    "| Attempt | Tier | Outcome | Cost |",
    "| --- | --- | --- | --- |",
    ...attempts,
    "",
    acceptance === undefined
      ? "No acceptance check was set for this task."
      : `Acceptance: \`${acceptance.command}\` ${acceptance.passed ? "passed" : "failed"} (exit ${acceptance.exit_code ?? "none"}).\n\n\`\`\`\n${acceptance.output_tail.slice(-PR_OUTPUT_CHARS)}\n\`\`\``,
    "",
    `Total cost: $${task.cost_usd.toFixed(4)}.`,
    ...(taskLink === undefined ? [] : [`Task: ${taskLink}`]),
  ].join("\n");
  return { title, body };
}

/** The task with the agent's answer recorded as its `delivery`, and the log's words for it. */
export function deliveredTask(
  task: TaskRecord,
  mode: "push" | "pr",
  answer: Result<DeliveryOutcome>,
  now: number,
): { task: TaskRecord; note: string } {
  const outcome: DeliveryOutcome = answer.ok
    ? answer.value
    : {
        ok: false,
        code: answer.error.code === "agent_offline" ? "agent_offline" : "internal",
        message: answer.error.message,
      };
  const pushed =
    outcome.remote_branch === undefined || outcome.pushed_commit === undefined
      ? {}
      : { remote_branch: outcome.remote_branch, pushed_commit: outcome.pushed_commit };
  const delivery: Delivery = outcome.ok
    ? { mode, ...pushed, ...(outcome.pr_url === undefined ? {} : { pr_url: outcome.pr_url }) }
    : { mode, ...pushed, error: { code: outcome.code, message: outcome.message } };
  const note = outcome.ok
    ? `delivered: pushed ${outcome.remote_branch} (${outcome.pushed_commit.slice(0, 12)})${outcome.pr_url === undefined ? "" : `, draft pull request ${outcome.pr_url}`}`
    : `not delivered (${outcome.code}): ${outcome.message}`;
  return { task: { ...task, delivery, updated_at: now }, note };
}
