import type * as Party from "partykit/server";
import { z } from "zod";
import {
  MAX_LOG_READ,
  type NotificationDelivery,
  NotificationEmit,
  type NotificationsReply,
  StoredDelivery,
} from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { mintViewerLink } from "../auth/viewer-link.ts";
import { errorResponse, json } from "../http/responses.ts";
import { MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { listStored, readStored } from "../stored-records.ts";
import {
  addEvents,
  claimDue,
  deliveriesSince,
  emptyOutbox,
  nextWake,
  type OutboxState,
  overflow,
  type SendOutcome,
  settleSend,
} from "./outbox-book.ts";
import { type OutboxConfig, outboxConfigFrom } from "./outbox-settings.ts";
import { jsonBody, slackBody, webhookSignature } from "./webhook-message.ts";

const DELIVERY_PREFIX = "d:";
const FAILURES_KEY = "failures";
/**
 * How long the link in a notification opens the task page as an operator (docs/notifications.md
 * "The link"): a day from the request that carries it, so even the last retry's link is fresh.
 */
export const NOTIFICATION_LINK_TTL_MS = 24 * 3600 * 1000;

/**
 * The notification outbox (one room, id "main"; docs/notifications.md): rooms hand it events
 * (announce.ts), it stores one delivery per event and webhook target before it answers, then sends
 * them, retrying on its alarm with backoff for a day. The bookkeeping is outbox-book.ts; this room
 * stores, sends and sets the alarm. Each target has its own in-flight slots and every request its own
 * time limit, so a slow or dead target delays only its own deliveries.
 */
export default class NotificationOutboxRoom extends MeshRoom<NotificationEmit> {
  static override readonly sockets: SocketPolicy = {
    open: false,
    message: "the notification outbox has no sockets; use GET /api/notifications?since=<ms>",
  };
  protected readonly commands = NotificationEmit;
  private state: OutboxState = emptyOutbox();
  /** The room's vars do not change while it lives: read once, not at every event and send. */
  private readonly config: OutboxConfig;

  constructor(room: Party.Room) {
    super(room);
    this.config = outboxConfigFrom(room.env);
  }

  async onStart(): Promise<void> {
    // A corrupt delivery (logged) is skipped: it is never sent nor listed; a corrupt count starts from 0 (docs/rooms.md
    // "Stored records").
    const [stored, failures] = await Promise.all([
      listStored(this.room.storage, "notifications", { prefix: DELIVERY_PREFIX }, StoredDelivery),
      readStored(this.room.storage, "notifications", FAILURES_KEY, z.number().int().nonnegative()),
    ]);
    const deliveries = new Map<string, StoredDelivery>();
    for (const delivery of stored.records.values()) deliveries.set(delivery.key, delivery);
    this.state = { deliveries, sending: new Set(), failures: failures.ok ? (failures.value ?? 0) : 0 };
    // Whatever is due (a lease a dead instance left) goes now, and the alarm is set again: a stored
    // alarm survives on Cloudflare, but `partykit dev` may start without it.
    void this.pump();
  }

  protected async onCommand(emit: NotificationEmit): Promise<Response> {
    const added = addEvents(this.state, emit.events, this.config.targets, Date.now());
    this.state = added.state;
    // Stored before the answer and before any request: an event the outbox accepted survives a restart.
    if (added.added.length > 0)
      await this.room.storage.put(Object.fromEntries(added.added.map((d) => [DELIVERY_PREFIX + d.key, d])));
    void this.pump();
    return json({ accepted: added.fresh.length, duplicates: emit.events.length - added.fresh.length }, 202);
  }

  /** Retries that fell due (and leases of requests a dead instance never finished). */
  async onAlarm(): Promise<void> {
    await this.pump();
  }

  protected override onRead(url: URL): Response {
    const sinceText = url.searchParams.get("since") ?? "0";
    if (!/^\d+$/.test(sinceText)) return errorResponse("bad_request", "since: must be a time in ms since epoch");
    // The counters alone are cheap: what GET /metrics reads (docs/notifications.md "Counters").
    if (url.searchParams.get("view") === "counters") return json({ webhook_failures_total: this.state.failures });
    const deliveries: NotificationDelivery[] = deliveriesSince(this.state, Number(sinceText), MAX_LOG_READ).map(
      ({ key: _key, target_url: _url, slack: _slack, event: _event, ...listed }) => listed,
    );
    return json({ deliveries, webhook_failures_total: this.state.failures } satisfies NotificationsReply);
  }

  /** Sends what is due now (not awaiting the requests), then sets the alarm for what is due next. */
  private async pump(): Promise<void> {
    const { settings } = this.config;
    const claim = claimDue(this.state, Date.now(), settings);
    this.state = claim.state;
    if (claim.claimed.length > 0)
      await this.room.storage.put(Object.fromEntries(claim.claimed.map((d) => [DELIVERY_PREFIX + d.key, d])));
    for (const delivery of claim.claimed) void this.sendDelivery(delivery);
    await this.arm();
  }

  private async arm(): Promise<void> {
    const wake = nextWake(this.state);
    if (wake === null) return;
    const current = await this.room.storage.getAlarm();
    if (current === null || current > wake) await this.room.storage.setAlarm(Math.max(wake, Date.now() + 10));
  }

  /** One request to one target; its outcome goes back to the book, and the next due deliveries go out. */
  private async sendDelivery(delivery: StoredDelivery): Promise<void> {
    const config = this.config;
    const outcome = await this.post(delivery, config).catch(
      (error: unknown): SendOutcome => ({ ok: false, error: String(error).slice(0, 300) }),
    );
    const settled = settleSend(this.state, delivery.key, outcome, Date.now(), Math.random(), config.settings);
    const trimmed = overflow(settled.state, config.settings);
    this.state = trimmed.state;
    // The failure count changes only when a request failed.
    const writes: Record<string, unknown> = outcome.ok ? {} : { [FAILURES_KEY]: this.state.failures };
    if (settled.changed !== null) writes[DELIVERY_PREFIX + settled.changed.key] = settled.changed;
    if (Object.keys(writes).length > 0) await this.room.storage.put(writes);
    if (trimmed.dropped.length > 0) await this.room.storage.delete(trimmed.dropped.map((key) => DELIVERY_PREFIX + key));
    if (!outcome.ok && settled.changed?.status === "failed")
      console.warn(
        `notifications: gave up ${delivery.event_id} to ${delivery.target_host} after ${delivery.attempts} attempts: ${outcome.error}`,
      );
    await this.pump();
  }

  private async post(delivery: StoredDelivery, config: OutboxConfig): Promise<SendOutcome> {
    const link = await this.link(delivery, config);
    const body = delivery.slack ? slackBody(delivery.event, link) : jsonBody(delivery.event, link);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "agent-mesh-webhooks",
      "x-mesh-event": delivery.type,
      "x-mesh-delivery": delivery.event_id,
    };
    if (config.secret !== "") headers["x-mesh-signature"] = await webhookSignature(body, config.secret);
    // A redirect is not followed: the body is signed for this URL, and a target that moved says so (3xx is a failure).
    const response = await fetch(delivery.target_url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(config.settings.requestTimeoutMs),
    }).catch((error: unknown) => {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      return timedOut
        ? `timeout after ${config.settings.requestTimeoutMs} ms`
        : `unreachable: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
    });
    if (typeof response === "string") return { ok: false, error: response };
    // The body is not needed; reading it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300
      ? { ok: true }
      : { ok: false, error: `HTTP ${response.status}` };
  }

  /** The operator link of this request: the task page at the task (the human step's buttons), or the dashboard. */
  private async link(delivery: StoredDelivery, config: OutboxConfig): Promise<string> {
    // Never a link signed with an empty key: a server without its secrets fails the send (retried, listed).
    const secrets = readSecrets(this.room.env);
    if ("code" in secrets) throw new Error(secrets.message);
    const minted = await mintViewerLink(
      { kind: "operator" },
      secrets.orchestratorToken,
      Date.now() + NOTIFICATION_LINK_TTL_MS,
    );
    const task = delivery.event.task;
    return task === undefined
      ? `${config.origin}/#token=${encodeURIComponent(minted)}`
      : `${config.origin}/#task=${encodeURIComponent(task.task_id)}&token=${encodeURIComponent(minted)}`;
  }
}

NotificationOutboxRoom satisfies Party.Worker;
