import { z } from "zod";
import { Tier } from "./ladder.ts";
import { TaskStatus } from "./task.ts";

// Webhook notifications (docs/notifications.md): the events rooms hand to the outbox, the body a
// webhook receives, the delivery records `GET /api/notifications` shows, and the setting that names
// the targets.

/** What happened. `task.succeeded` / `task.failed` only for tasks created with `notify: true`. */
export const NotificationType = z.enum([
  "task.awaiting_human",
  "budget.alert",
  "budget.halted",
  "agent.lost",
  "task.succeeded",
  "task.failed",
]);
export type NotificationType = z.infer<typeof NotificationType>;

/** The task an event is about, as a person needs it to decide whether to act. */
export const NotificationTask = z.object({
  task_id: z.string(),
  name: z.string().optional(),
  status: TaskStatus,
  tier: Tier,
  cost_usd: z.number(),
});
export type NotificationTask = z.infer<typeof NotificationTask>;

/** The agent an `agent.lost` is about. */
export const NotificationAgent = z.object({
  name: z.string(),
  /** Attempts it was running when it was given up (their tasks retry them elsewhere). */
  running: z.number().int().nonnegative().optional(),
});

/** The budget window a `budget.*` event is about. */
export const NotificationBudget = z.object({
  /** `day` for the daily halt, `month` for the monthly alert. */
  window: z.enum(["day", "month"]),
  spent_usd: z.number(),
  limit_usd: z.number(),
});

/** One event as a room hands it to the outbox; the outbox adds `url` (an operator link) when it delivers. */
export const NotificationEvent = z.object({
  /** Stable for one happening: the outbox and receivers de-duplicate by it. */
  id: z.string().min(1).max(200),
  type: NotificationType,
  /** When it happened (ms since epoch). */
  at: z.number(),
  /** One sentence a person reads first. */
  reason: z.string().max(2000),
  task: NotificationTask.optional(),
  agent: NotificationAgent.optional(),
  budget: NotificationBudget.optional(),
});
export type NotificationEvent = z.infer<typeof NotificationEvent>;

/** The JSON body a (non-Slack) webhook receives, signed in `X-Mesh-Signature`. */
export const WebhookBody = NotificationEvent.extend({
  /** An expiring operator link that opens the task page (or the dashboard) where a person acts. */
  url: z.string(),
});
export type WebhookBody = z.infer<typeof WebhookBody>;

/** Room → outbox: keep these events and deliver them to every target. */
export const NotificationEmit = z.object({
  type: z.literal("notification.emit"),
  events: z.array(NotificationEvent).min(1).max(100),
});
export type NotificationEmit = z.infer<typeof NotificationEmit>;

/** How a delivery stands: still being tried, received (2xx), or given up after the retry window. */
export const DeliveryStatus = z.enum(["pending", "delivered", "failed"]);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/** One event to one target, as `GET /api/notifications` lists it. */
export const NotificationDelivery = z.object({
  event_id: z.string(),
  type: NotificationType,
  /** The target's host only: a Slack URL's path is its secret. */
  target_host: z.string(),
  /** Requests made so far. */
  attempts: z.number().int().nonnegative(),
  status: DeliveryStatus,
  /** The last failed request's cause (`HTTP 500`, `timeout after 10000 ms`, …). */
  last_error: z.string().optional(),
  created_at: z.number(),
  updated_at: z.number(),
  /** When the next request is due (pending only). */
  next_at: z.number().optional(),
  delivered_at: z.number().optional(),
});
export type NotificationDelivery = z.infer<typeof NotificationDelivery>;

/** `GET /api/notifications` (and the outbox's `?view=counters`, which leaves out `deliveries`). */
export const NotificationsReply = z.object({
  deliveries: z.array(NotificationDelivery),
  /** Failed requests to webhook targets since the outbox began (each retry that fails counts). */
  webhook_failures_total: z.number().int().nonnegative(),
});
export type NotificationsReply = z.infer<typeof NotificationsReply>;

/** A webhook target: its URL and whether it gets Slack's message shape. */
export type WebhookTarget = { url: string; slack: boolean };

/** Prefix that forces Slack's shape on any URL (a loopback receiver in tests, a Slack-compatible relay). */
export const SLACK_PREFIX = "slack+";

/** Slack's incoming webhooks: `https://hooks.slack.com/services/…`. */
function isSlackUrl(url: URL): boolean {
  return url.hostname === "hooks.slack.com" && url.pathname.startsWith("/services/");
}

/**
 * The targets `MESH_WEBHOOK_URLS` names (comma-separated), or the one-line reason it is refused:
 * each must be an absolute http(s) URL.
 */
export function webhookTargets(
  setting: string | undefined,
): { ok: true; value: WebhookTarget[] } | { ok: false; error: string } {
  const targets: WebhookTarget[] = [];
  for (const raw of (setting ?? "").split(",")) {
    const text = raw.trim();
    if (text === "") continue;
    const forced = text.startsWith(SLACK_PREFIX);
    const bare = forced ? text.slice(SLACK_PREFIX.length) : text;
    const url = URL.canParse(bare) ? new URL(bare) : null;
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
      return {
        ok: false,
        error: `MESH_WEBHOOK_URLS: '${text.slice(0, 200)}' is not an http(s) URL; give absolute URLs separated by commas`,
      };
    }
    targets.push({ url: url.href, slack: forced || isSlackUrl(url) });
  }
  return { ok: true, value: targets };
}

/** A delivery as the outbox stores it: the listed fields plus where it goes (never shown: a Slack URL is a secret). */
export const StoredDelivery = NotificationDelivery.extend({
  /** `<event id>|<target index>`: the storage key's tail. */
  key: z.string(),
  target_url: z.string(),
  slack: z.boolean(),
  /** The event itself, kept with each of its deliveries so one record is all a retry needs. */
  event: NotificationEvent,
});
export type StoredDelivery = z.infer<typeof StoredDelivery>;
