import type { NotificationEvent, NotificationType, WebhookBody } from "../../protocol/index.ts";
import { hex, hmacSha256 } from "../auth/signing.ts";

// What one delivery sends (docs/notifications.md): the signed JSON event, or Slack's `{text, blocks}`
// for a Slack incoming webhook, each with the operator link a person acts through.

/** The `X-Mesh-Signature` value of a raw body: `sha256=<hex HMAC-SHA256>` keyed with MESH_WEBHOOK_SECRET. */
export async function webhookSignature(body: string, secret: string): Promise<string> {
  return `sha256=${hex(await hmacSha256(body, secret))}`;
}

/** A heading a person reads in a notification list. */
const HEADINGS: Record<NotificationType, string> = {
  "task.awaiting_human": "A task needs a person",
  "budget.alert": "Monthly spend reached its alert",
  "budget.halted": "The daily budget halted: no attempt starts",
  "agent.lost": "An agent was lost",
  "task.succeeded": "A task succeeded",
  "task.failed": "A task failed",
};

/** The button's words: what the link lets the reader do. */
function actionText(event: NotificationEvent): string {
  if (event.type === "task.awaiting_human") return "Approve, retry or reject";
  return event.task === undefined ? "Open the dashboard" : "Open the task";
}

/** The JSON body of a plain webhook: the event and its link. */
export function jsonBody(event: NotificationEvent, url: string): string {
  const body: WebhookBody = { ...event, url };
  return JSON.stringify(body);
}

/** Slack text escapes only these three (Slack's "Formatting text for app surfaces"). */
const slackEscape = (text: string): string =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/**
 * Slack's incoming-webhook shape: a `text` fallback for notifications, and blocks with the task, its cost and a button
 * to act.
 */
export function slackBody(event: NotificationEvent, url: string): string {
  const heading = HEADINGS[event.type];
  const task = event.task;
  const taskLine =
    task === undefined
      ? undefined
      : `${task.name ?? task.task_id} (${task.status}, tier ${task.tier}, $${task.cost_usd.toFixed(4)})`;
  const text = `${heading}: ${event.reason}${taskLine === undefined ? "" : ` — ${taskLine}`}`;
  const fields = [
    ...(task === undefined
      ? []
      : [
          `*Task*\n${slackEscape(task.name ?? task.task_id)}`,
          `*Status*\n${task.status}`,
          `*Tier*\n${task.tier}`,
          `*Cost*\n$${task.cost_usd.toFixed(4)}`,
        ]),
    ...(event.agent === undefined ? [] : [`*Agent*\n${slackEscape(event.agent.name)}`]),
    ...(event.budget === undefined
      ? []
      : [
          `*Spent*\n$${event.budget.spent_usd.toFixed(2)} of $${event.budget.limit_usd.toFixed(2)} (${event.budget.window})`,
        ]),
  ].map((field) => ({ type: "mrkdwn", text: field }));
  const blocks = [
    { type: "header", text: { type: "plain_text", text: heading } },
    {
      type: "section",
      text: { type: "mrkdwn", text: slackEscape(event.reason) },
      ...(fields.length === 0 ? {} : { fields }),
    },
    {
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: actionText(event) },
          url,
          style: "primary",
          action_id: "open",
        },
      ],
    },
    { type: "context", elements: [{ type: "mrkdwn", text: `agent-mesh · ${event.type} · ${event.id}` }] },
  ];
  return JSON.stringify({ text: slackEscape(text), blocks });
}
