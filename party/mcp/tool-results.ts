import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Delivery, DiffStat, ErrorBody, TaskView, TaskWaiting } from "../../protocol/index.ts";

/** How many output characters a task's text summary quotes. */
const SUMMARY_OUTPUT_CHARS = 2000;

/** A task as a tool result: the task in `structuredContent`, a readable summary as text. */
export function taskResult(task: TaskView, note?: string): CallToolResult {
  const attempts = task.attempts
    .map(
      (a) =>
        `  #${a.n} ${a.tier}${a.agent ? ` on ${a.agent}` : ""}: ${a.status}${a.failure_class ? ` (${a.failure_class})` : ""}${a.exit_code === undefined ? "" : `, exit ${a.exit_code}`}${a.diff_stat ? `, ${statText(a.diff_stat)}` : ""}`,
    )
    .join("\n");
  const lines = [
    `task ${task.task_id}${task.name ? ` (${task.name})` : ""}: ${task.status} at tier ${task.tier}`,
    ...(note ? [note] : []),
    ...(task.waiting ? [waitingText(task.waiting)] : []),
    ...(task.routing ? [`routing: tier ${task.routing.tier} by ${task.routing.rule}`] : []),
    `attempts:\n${attempts}`,
    `tokens ${task.tokens.input} in / ${task.tokens.output} out · $${task.cost_usd.toFixed(4)} · ${(task.latency_ms / 1000).toFixed(1)} s`,
    ...(task.error ? [`error ${task.error.code}: ${task.error.message}`] : []),
    ...(task.result?.branch
      ? [
          `result: attempt ${task.result.attempt} on branch ${task.result.branch} (${task.result.commit?.slice(0, 12)} from ${task.result.base?.slice(0, 12)})${task.result.diff_stat ? `, ${statText(task.result.diff_stat)}` : ""}; see it with the diff tool, merge it with apply`,
        ]
      : []),
    ...(task.delivery ? [deliveryText(task.delivery)] : []),
    ...(task.applied
      ? [
          `applied: ${task.repo === undefined ? "the checkout" : "the remote's base branch"} is at ${task.applied.commit.slice(0, 12)}`,
        ]
      : []),
    ...(task.output ? [`output:\n${task.output.slice(-SUMMARY_OUTPUT_CHARS)}`] : []),
    `watch live: ${task.watch_url}`,
  ];
  return { content: [{ type: "text", text: lines.join("\n") }], structuredContent: task };
}

/** Where a repo task's result was delivered (docs/delivery.md): the pushed branch and the pull request, or why not. */
function deliveryText(delivery: Delivery): string {
  const pushed =
    delivery.remote_branch === undefined
      ? ""
      : `pushed branch ${delivery.remote_branch}${delivery.pushed_commit === undefined ? "" : ` (${delivery.pushed_commit.slice(0, 12)})`}`;
  const pr = delivery.pr_url === undefined ? "" : `; draft pull request ${delivery.pr_url}`;
  const error =
    delivery.error === undefined
      ? ""
      : `${pushed === "" ? "" : "; "}not delivered (${delivery.error.code}): ${delivery.error.message}`;
  return `delivery (${delivery.mode}): ${pushed}${pr}${error}`;
}

/** What a queued task waits for, in words (docs/scheduling.md). */
export function waitingText(waiting: TaskWaiting): string {
  const since = `since ${new Date(waiting.since).toISOString()}`;
  return waiting.for === "agent"
    ? `waiting for an agent that serves ${waiting.tier ?? "its tier"} (${since})`
    : `waiting for task(s) ${(waiting.ids ?? []).join(", ")} to succeed (${since})`;
}

function statText(stat: DiffStat): string {
  return `${stat.files} file${stat.files === 1 ? "" : "s"} changed, +${stat.insertions} -${stat.deletions}`;
}

/** Any JSON value as a tool result. */
export function valueResult(value: Record<string, unknown>, text: string): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: value };
}

/**
 * A refusal as a tool result: never a thrown error, always a code and what to do. The code and
 * message go in the text and in `_meta`, not `structuredContent`: clients validate structured
 * content against the tool's output schema even on errors (the SDK's Client does).
 */
export function errorResult(error: ErrorBody): CallToolResult {
  return {
    isError: true,
    content: [{ type: "text", text: `${error.code}: ${error.message}` }],
    _meta: { "agent-mesh/error": error },
  };
}
