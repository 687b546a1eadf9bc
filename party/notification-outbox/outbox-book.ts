import type { NotificationEvent, StoredDelivery, WebhookTarget } from "../../protocol/index.ts";

// The outbox's bookkeeping (docs/notifications.md), a pure function of the state and one event: which
// deliveries exist, which are due, when each is tried again, when one is given up. The room
// (notification-outbox-room.ts) stores, sends and sets the alarm these decisions ask for.

/** Timing of deliveries; the room reads them from the settings (outbox-settings.ts). */
export type OutboxSettings = {
  /**
   * The first retry's delay before jitter; each later one doubles. Default 4 s, so the first retry comes 2-4 s after
   * the failure.
   */
  retryBaseMs: number;
  /** No two tries of one delivery are further apart than this: 10 minutes. */
  retryCapMs: number;
  /** How long a delivery is tried from its event's arrival: 24 hours. */
  giveUpAfterMs: number;
  /** A request's time limit: a target slower than this counts as failed (5 s). */
  requestTimeoutMs: number;
  /** Requests in flight to one target at once: a slow target holds only its own slots. */
  perTargetInFlight: number;
  /** Finished deliveries kept for `GET /api/notifications` (and for de-duplication); the oldest go first. */
  keepFinished: number;
};

export const DEFAULT_OUTBOX_SETTINGS: OutboxSettings = {
  retryBaseMs: 4000,
  retryCapMs: 10 * 60 * 1000,
  giveUpAfterMs: 24 * 3600 * 1000,
  requestTimeoutMs: 5000,
  perTargetInFlight: 2,
  keepFinished: 2000,
};

export type OutboxState = {
  deliveries: ReadonlyMap<string, StoredDelivery>;
  /** Keys with a request in flight in this instance (not stored: after a restart the lease says when to try again). */
  sending: ReadonlySet<string>;
  /** Failed requests since the outbox began (stored). */
  failures: number;
};

export const emptyOutbox = (): OutboxState => ({ deliveries: new Map(), sending: new Set(), failures: 0 });

export const deliveryKey = (eventId: string, targetIndex: number): string => `${eventId}|${targetIndex}`;

/** What a request to a target came to. */
export type SendOutcome = { ok: true } | { ok: false; error: string };

/**
 * The delay before retry number `failures` (1 for the first retry): doubling from `retryBaseMs`, at
 * most `retryCapMs`, with "equal jitter" (between half and all of it), so many deliveries failing
 * together do not retry together. `random` is in [0, 1).
 */
export function retryDelayMs(failures: number, random: number, settings: OutboxSettings): number {
  const exponent = Math.min(Math.max(0, failures - 1), 30);
  const full = Math.min(settings.retryCapMs, settings.retryBaseMs * 2 ** exponent);
  return Math.round(full / 2 + (Math.min(Math.max(random, 0), 1) * full) / 2);
}

/**
 * New events, one delivery per target each. An event whose id the outbox already holds is a
 * duplicate (a room sent it twice) and adds nothing. The new deliveries are due at once.
 */
export function addEvents(
  state: OutboxState,
  events: readonly NotificationEvent[],
  targets: readonly WebhookTarget[],
  now: number,
): { state: OutboxState; added: StoredDelivery[]; fresh: NotificationEvent[] } {
  const deliveries = new Map(state.deliveries);
  const added: StoredDelivery[] = [];
  const fresh: NotificationEvent[] = [];
  for (const event of events) {
    if (targets.length === 0 || deliveries.has(deliveryKey(event.id, 0)) || fresh.some((e) => e.id === event.id))
      continue;
    fresh.push(event);
    targets.forEach((target, index) => {
      const key = deliveryKey(event.id, index);
      const delivery: StoredDelivery = {
        key,
        event_id: event.id,
        type: event.type,
        target_host: new URL(target.url).host,
        target_url: target.url,
        slack: target.slack,
        event,
        attempts: 0,
        status: "pending",
        created_at: now,
        updated_at: now,
        next_at: now,
      };
      deliveries.set(key, delivery);
      added.push(delivery);
    });
  }
  return { state: { ...state, deliveries }, added, fresh };
}

/**
 * The deliveries to send now: pending, due, not in flight, and within their target's in-flight
 * slots; oldest first. Each is leased: its `next_at` moves past the request's time limit, so if this
 * instance dies mid-request the alarm tries it again (at least once), and `attempts` counts it.
 */
export function claimDue(
  state: OutboxState,
  now: number,
  settings: OutboxSettings,
): { state: OutboxState; claimed: StoredDelivery[] } {
  const busy = new Map<string, number>();
  for (const key of state.sending) {
    const target = state.deliveries.get(key)?.target_url;
    if (target !== undefined) busy.set(target, (busy.get(target) ?? 0) + 1);
  }
  const due = [...state.deliveries.values()]
    .filter((d) => d.status === "pending" && (d.next_at ?? 0) <= now && !state.sending.has(d.key))
    .sort((a, b) => a.created_at - b.created_at || a.key.localeCompare(b.key));
  const claimed: StoredDelivery[] = [];
  for (const delivery of due) {
    const inFlight = busy.get(delivery.target_url) ?? 0;
    if (inFlight >= settings.perTargetInFlight) continue;
    busy.set(delivery.target_url, inFlight + 1);
    claimed.push({
      ...delivery,
      attempts: delivery.attempts + 1,
      next_at: now + settings.requestTimeoutMs + settings.retryBaseMs,
      updated_at: now,
    });
  }
  if (claimed.length === 0) return { state, claimed };
  const deliveries = new Map(state.deliveries);
  for (const delivery of claimed) deliveries.set(delivery.key, delivery);
  return {
    state: { ...state, deliveries, sending: new Set([...state.sending, ...claimed.map((d) => d.key)]) },
    claimed,
  };
}

/**
 * A request ended. 2xx: delivered. Otherwise the failure is counted and the delivery is tried again
 * after `retryDelayMs` (never past its give-up time, where one last try is made), or given up once
 * that time has passed.
 */
export function settleSend(
  state: OutboxState,
  key: string,
  outcome: SendOutcome,
  now: number,
  random: number,
  settings: OutboxSettings,
): { state: OutboxState; changed: StoredDelivery | null } {
  const sending = new Set(state.sending);
  sending.delete(key);
  const delivery = state.deliveries.get(key);
  if (delivery === undefined || delivery.status !== "pending") return { state: { ...state, sending }, changed: null };
  let changed: StoredDelivery;
  if (outcome.ok) {
    const { next_at: _next, ...rest } = delivery;
    changed = { ...rest, status: "delivered", delivered_at: now, updated_at: now };
  } else {
    const giveUpAt = delivery.created_at + settings.giveUpAfterMs;
    const { next_at: _next, ...rest } = delivery;
    changed =
      now >= giveUpAt
        ? { ...rest, status: "failed", last_error: outcome.error, updated_at: now }
        : {
            ...rest,
            last_error: outcome.error,
            updated_at: now,
            next_at: Math.min(giveUpAt, now + retryDelayMs(delivery.attempts, random, settings)),
          };
  }
  const deliveries = new Map(state.deliveries);
  deliveries.set(key, changed);
  return { state: { deliveries, sending, failures: state.failures + (outcome.ok ? 0 : 1) }, changed };
}

/** When the alarm must next fire: the earliest due pending delivery (a lease counts); null when none waits. */
export function nextWake(state: OutboxState): number | null {
  let earliest: number | null = null;
  for (const d of state.deliveries.values())
    if (d.status === "pending" && d.next_at !== undefined && (earliest === null || d.next_at < earliest))
      earliest = d.next_at;
  return earliest;
}

/** Finished deliveries beyond `keepFinished`, oldest first: the room deletes them. */
export function overflow(state: OutboxState, settings: OutboxSettings): { state: OutboxState; dropped: string[] } {
  const finished = [...state.deliveries.values()].filter((d) => d.status !== "pending");
  if (finished.length <= settings.keepFinished) return { state, dropped: [] };
  const dropped = finished
    .sort((a, b) => a.updated_at - b.updated_at)
    .slice(0, finished.length - settings.keepFinished)
    .map((d) => d.key);
  const deliveries = new Map(state.deliveries);
  for (const key of dropped) deliveries.delete(key);
  return { state: { ...state, deliveries }, dropped };
}

/** Deliveries changed at or after `since`, oldest event first: what `GET /api/notifications` lists. */
export function deliveriesSince(state: OutboxState, since: number, limit: number): StoredDelivery[] {
  return [...state.deliveries.values()]
    .filter((d) => d.updated_at >= since)
    .sort((a, b) => a.created_at - b.created_at || a.key.localeCompare(b.key))
    .slice(-limit);
}
