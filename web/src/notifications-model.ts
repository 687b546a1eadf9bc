// What the dashboard's notifications panel shows of `GET /api/notifications` (docs/notifications.md):
// the reply parsed (never trusted as-is), each delivery as the cells of one row, and the line above
// the table. Pure, so it is tested without a browser.
import { type NotificationDelivery, NotificationsReply, parseJson } from "../../protocol/index.ts";
import { ago } from "./time-format.ts";

/** The reply, or null when it is not the shape the page knows. */
export function parseNotifications(body: string): NotificationsReply | null {
  const parsed = parseJson(NotificationsReply, body);
  return parsed.ok ? parsed.value : null;
}

export type DeliveryCells = {
  event: string;
  type: string;
  target: string;
  attempts: string;
  status: string;
  lastError: string;
  when: string;
};

/** One delivery's row: newest first is the panel's order, so `when` is how long ago it last changed. */
export function deliveryCells(delivery: NotificationDelivery, now: number): DeliveryCells {
  const retry =
    delivery.status === "pending" && delivery.next_at !== undefined
      ? ` (next try ${delivery.next_at <= now ? "now" : `in ${Math.ceil((delivery.next_at - now) / 1000)} s`})`
      : "";
  return {
    event: delivery.event_id,
    type: delivery.type,
    target: delivery.target_host,
    attempts: String(delivery.attempts),
    status: `${delivery.status}${retry}`,
    lastError: delivery.last_error ?? "",
    when: ago(delivery.updated_at, now),
  };
}

/** The line above the table: how many deliveries, how many wait or failed, and the failed requests counted. */
export function notificationsSummary(reply: NotificationsReply): string {
  const pending = reply.deliveries.filter((d) => d.status === "pending").length;
  const failed = reply.deliveries.filter((d) => d.status === "failed").length;
  return `${reply.deliveries.length} deliveries · ${pending} retrying · ${failed} given up · ${reply.webhook_failures_total} failed requests`;
}
