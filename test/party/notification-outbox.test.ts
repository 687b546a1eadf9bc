// The notification outbox's book (docs/notifications.md): backoff and its jitter bounds, the 24-hour
// give-up, de-duplication by event id, per-target in-flight slots and leases; the webhook signature
// and message shapes; which task, budget and agent changes make events; the targets setting.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkWebhookSettings } from "../../launcher/server-vars.ts";
import { decideRegistry, restoredRegistry } from "../../party/agent-registry/registry-actor.ts";
import { type BudgetLimits, emptyBudget } from "../../party/budget-room/budget-book.ts";
import { budgetNotices } from "../../party/budget-room/budget-notices.ts";
import {
  addEvents,
  claimDue,
  DEFAULT_OUTBOX_SETTINGS,
  emptyOutbox,
  nextWake,
  type OutboxState,
  overflow,
  retryDelayMs,
  settleSend,
} from "../../party/notification-outbox/outbox-book.ts";
import { jsonBody, slackBody, webhookSignature } from "../../party/notification-outbox/webhook-message.ts";
import { stored } from "../../party/task-room/task-events.ts";
import { taskNotices } from "../../party/task-room/task-notices.ts";
import {
  type NotificationEvent,
  type TaskRecord,
  WebhookBody,
  type WebhookTarget,
  webhookTargets,
} from "../../protocol/index.ts";

const settings = DEFAULT_OUTBOX_SETTINGS;
const targets: WebhookTarget[] = [
  { url: "http://a.example/hook", slack: false },
  { url: "http://b.example/hook", slack: false },
];
const event = (id: string): NotificationEvent => ({
  id,
  type: "task.awaiting_human",
  at: 1,
  reason: "needs a person",
  task: { task_id: "T1", status: "awaiting_human", tier: "human", cost_usd: 0.5 },
});

/** Fails every delivery due at `now` with `random`, returning the state after. */
function failAll(state: OutboxState, now: number, random = 0.5): OutboxState {
  const claimed = claimDue(state, now, settings);
  let next = claimed.state;
  for (const d of claimed.claimed)
    next = settleSend(next, d.key, { ok: false, error: "HTTP 500" }, now, random, settings).state;
  return next;
}

describe("retry delays", () => {
  it("the first retry comes within 5 s and each later one doubles, with jitter between half and all of it", () => {
    expect(retryDelayMs(1, 0, settings)).toBe(2000);
    expect(retryDelayMs(1, 0.999999, settings)).toBeLessThanOrEqual(4000);
    expect(retryDelayMs(1, 0.999999, settings)).toBeLessThan(5000);
    for (let n = 1; n < 8; n++) {
      const full = Math.min(settings.retryCapMs, settings.retryBaseMs * 2 ** (n - 1));
      for (const random of [0, 0.25, 0.5, 0.999]) {
        const delay = retryDelayMs(n, random, settings);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
      }
    }
  });

  it("never waits more than 10 minutes between tries", () => {
    for (const n of [10, 20, 100, 10_000])
      expect(retryDelayMs(n, 0.999999, settings)).toBeLessThanOrEqual(10 * 60 * 1000);
    expect(retryDelayMs(100, 0, settings)).toBe(5 * 60 * 1000);
  });
});

describe("the outbox book", () => {
  it("makes one delivery per target, due at once, and adds nothing for an event id it holds", () => {
    const first = addEvents(emptyOutbox(), [event("e1")], targets, 1000);
    expect(first.added.map((d) => d.target_host)).toEqual(["a.example", "b.example"]);
    expect(first.added.every((d) => d.status === "pending" && d.next_at === 1000)).toBe(true);
    const again = addEvents(first.state, [event("e1"), event("e1")], targets, 2000);
    expect(again.added).toEqual([]);
    expect(again.fresh).toEqual([]);
    expect(addEvents(emptyOutbox(), [event("e2"), event("e2")], targets, 1).added).toHaveLength(2);
  });

  it("leases what it sends, so a request that never ends is tried again, and counts the attempt", () => {
    const added = addEvents(emptyOutbox(), [event("e1")], targets, 1000).state;
    const claimed = claimDue(added, 1000, settings);
    expect(claimed.claimed.map((d) => d.attempts)).toEqual([1, 1]);
    expect(claimDue(claimed.state, 1000, settings).claimed).toEqual([]);
    expect(nextWake(claimed.state)).toBe(1000 + settings.requestTimeoutMs + settings.retryBaseMs);
  });

  it("gives each target its own in-flight slots: a target with a backlog does not hold back another", () => {
    let state = addEvents(
      emptyOutbox(),
      [event("e1"), event("e2"), event("e3")],
      [targets[0] as WebhookTarget],
      1000,
    ).state;
    state = addEvents(state, [event("e4")], [targets[1] as WebhookTarget], 1001).state;
    const claimed = claimDue(state, 2000, settings);
    const hosts = claimed.claimed.map((d) => d.target_host);
    expect(hosts.filter((h) => h === "a.example")).toHaveLength(settings.perTargetInFlight);
    expect(hosts).toContain("b.example");
  });

  it("a failure is counted and retried after the backoff; a success is delivered and never sent again", () => {
    const added = addEvents(emptyOutbox(), [event("e1")], [targets[0] as WebhookTarget], 0).state;
    const failed = failAll(added, 0, 0);
    const delivery = failed.deliveries.get("e1|0");
    expect(failed.failures).toBe(1);
    expect(delivery?.status).toBe("pending");
    expect(delivery?.last_error).toBe("HTTP 500");
    expect(delivery?.next_at).toBe(2000);
    expect(claimDue(failed, 1999, settings).claimed).toEqual([]);
    const retried = claimDue(failed, 2000, settings);
    expect(retried.claimed[0]?.attempts).toBe(2);
    const delivered = settleSend(retried.state, "e1|0", { ok: true }, 2100, 0.5, settings).state;
    expect(delivered.deliveries.get("e1|0")?.status).toBe("delivered");
    expect(delivered.failures).toBe(1);
    expect(claimDue(delivered, 10 ** 12, settings).claimed).toEqual([]);
    expect(nextWake(delivered)).toBeNull();
  });

  it("keeps trying for 24 hours (one last try at the deadline), then gives up", () => {
    let state = addEvents(emptyOutbox(), [event("e1")], [targets[0] as WebhookTarget], 0).state;
    let now = 0;
    let tries = 0;
    while (state.deliveries.get("e1|0")?.status === "pending" && tries < 1000) {
      state = failAll(state, now, 0.999);
      tries += 1;
      const next = state.deliveries.get("e1|0")?.next_at;
      if (next !== undefined) {
        expect(next - now).toBeLessThanOrEqual(settings.retryCapMs);
        now = next;
      }
    }
    const delivery = state.deliveries.get("e1|0");
    expect(delivery?.status).toBe("failed");
    expect(delivery?.updated_at).toBe(24 * 3600 * 1000);
    expect(tries).toBeGreaterThan(100);
    expect(state.failures).toBe(tries);
  });

  it("drops the oldest finished deliveries beyond what it keeps, never a pending one", () => {
    let state = addEvents(
      emptyOutbox(),
      [event("old"), event("new"), event("waiting")],
      [targets[0] as WebhookTarget],
      0,
    ).state;
    const claimed = claimDue(state, 0, { ...settings, perTargetInFlight: 3 });
    state = settleSend(claimed.state, "old|0", { ok: true }, 1, 0, settings).state;
    state = settleSend(state, "new|0", { ok: true }, 2, 0, settings).state;
    const trimmed = overflow(state, { ...settings, keepFinished: 1 });
    expect(trimmed.dropped).toEqual(["old|0"]);
    expect([...trimmed.state.deliveries.keys()].sort()).toEqual(["new|0", "waiting|0"]);
  });
});

describe("webhook messages", () => {
  it("signs the raw body with HMAC-SHA256 as a receiver checks it", async () => {
    const body = jsonBody(event("e1"), "http://mesh/#task=T1&token=x");
    const expected = `sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`;
    expect(await webhookSignature(body, "s3cret")).toBe(expected);
    expect(await webhookSignature(body, "other")).not.toBe(expected);
    expect(WebhookBody.parse(JSON.parse(body)).url).toBe("http://mesh/#task=T1&token=x");
  });

  it("gives Slack text and blocks with the reason, the task, its cost and a button to the link", () => {
    const slack = JSON.parse(slackBody({ ...event("e1"), reason: "a <b> & c" }, "http://mesh/#x")) as {
      text: string;
      blocks: Array<{ type: string; elements?: Array<{ type: string; url?: string }> }>;
    };
    expect(slack.text).toContain("a &lt;b&gt; &amp; c");
    expect(slack.text).toContain("$0.5000");
    const button = slack.blocks.find((b) => b.type === "actions")?.elements?.[0];
    expect(button).toMatchObject({ type: "button", url: "http://mesh/#x" });
  });
});

describe("which changes make events", () => {
  const task = (changes: Partial<TaskRecord>): TaskRecord =>
    ({
      task_id: "T1",
      status: "running",
      instruction: "x",
      tier: "sonnet",
      agent_selector: { by: "any" },
      attempts: [],
      tokens: { input: 0, output: 0 },
      cost_usd: 0.25,
      latency_ms: 0,
      created_at: 0,
      updated_at: 5,
      ...changes,
    }) as TaskRecord;

  it("a task reaching the human step, and a notify task's end; nothing else", () => {
    const waiting = taskNotices(task({}), task({ status: "awaiting_human", tier: "human" }));
    expect(waiting.map((e) => e.type)).toEqual(["task.awaiting_human"]);
    expect(waiting[0]?.task).toMatchObject({ task_id: "T1", status: "awaiting_human", cost_usd: 0.25 });
    expect(taskNotices(task({ status: "awaiting_human" }), task({ status: "awaiting_human" }))).toEqual([]);
    expect(taskNotices(task({}), task({ status: "succeeded" }))).toEqual([]);
    expect(taskNotices(task({}), task({ status: "succeeded", notify: true })).map((e) => e.type)).toEqual([
      "task.succeeded",
    ]);
    expect(taskNotices(task({}), task({ status: "failed", notify: true })).map((e) => e.id)).toEqual(["T1:failed"]);
    expect(taskNotices(task({}), task({ status: "cancelled", notify: true }))).toEqual([]);
  });

  it("the task actor's stored change carries the events as an announce effect", () => {
    const effects = stored(task({}), task({ status: "awaiting_human", tier: "human" }), "waits for a person").effects;
    expect(
      effects
        .filter((e) => e.kind === "announce-events")
        .flatMap((e) => (e.kind === "announce-events" ? e.events.map((n) => n.type) : [])),
    ).toEqual(["task.awaiting_human"]);
    expect(stored(task({}), task({ cost_usd: 1 }), "cost").effects.some((e) => e.kind === "announce-events")).toBe(
      false,
    );
  });

  it("the registry's watchdog announces the agent it gives up, once", () => {
    const restored = restoredRegistry(
      [
        {
          name: "vm-1",
          kind: "vm",
          tiers: ["sonnet"],
          capacity: 1,
          version: "1",
          registered_at: 0,
          last_heartbeat: 0,
          running: [{ task_id: "T1", attempt: 1 }],
        },
      ],
      [],
      {},
      [],
    );
    const ctx = { now: 60_000, heartbeatMs: 5000, idleFlagS: 300, startedAt: 0 };
    const lost = decideRegistry(restored, { type: "watchdog-ticked" }, ctx);
    const announced = lost.effects.flatMap((e) => (e.kind === "announce" ? e.events : []));
    expect(announced).toEqual([
      expect.objectContaining({ type: "agent.lost", id: "agent.lost:vm-1:60000", agent: { name: "vm-1", running: 1 } }),
    ]);
    expect(
      decideRegistry(lost.state, { type: "watchdog-ticked" }, { ...ctx, now: 61_000 }).effects.some(
        (e) => e.kind === "announce",
      ),
    ).toBe(false);
  });

  it("the month's alert once, and the breaker's halt when it closes", () => {
    const limits: BudgetLimits = { dailyHaltUsd: 1, monthlyAlertUsd: 0.5, estimate: { input: 1, output: 1 } };
    const before = emptyBudget(Date.UTC(2026, 11, 7));
    const alerted = { ...before, month: { ...before.month, spent_usd: 0.6, alerted_at: 7 } };
    expect(budgetNotices(before, alerted, limits, 7).map((e) => e.type)).toEqual(["budget.alert"]);
    expect(budgetNotices(alerted, alerted, limits, 8)).toEqual([]);
    const halted = { ...alerted, day: { ...alerted.day, spent_usd: 1.2 } };
    const events = budgetNotices(alerted, halted, limits, 9);
    expect(events.map((e) => e.type)).toEqual(["budget.halted"]);
    expect(events[0]?.budget).toEqual({ window: "day", spent_usd: 1.2, limit_usd: 1 });
    expect(budgetNotices(halted, { ...halted, day: { ...halted.day, spent_usd: 1.3 } }, limits, 10)).toEqual([]);
  });
});

describe("MESH_WEBHOOK_URLS", () => {
  it("recognises Slack's incoming webhooks and the slack+ prefix", () => {
    const parsed = webhookTargets(
      "https://hooks.slack.com/services/T0/B0/x, slack+http://127.0.0.1:20001/h ,http://127.0.0.1:20002/",
    );
    expect(parsed.ok && parsed.value.map((t) => [t.url, t.slack])).toEqual([
      ["https://hooks.slack.com/services/T0/B0/x", true],
      ["http://127.0.0.1:20001/h", true],
      ["http://127.0.0.1:20002/", false],
    ]);
  });

  it("refuses a URL that is not http(s) or not a URL, and plain targets without a secret", () => {
    expect(checkWebhookSettings({ MESH_WEBHOOK_URLS: "ftp://x.example/h" })).toMatchObject({
      ok: false,
      error: { code: "webhook_invalid", message: expect.stringMatching(/is not an http\(s\) URL/) },
    });
    expect(checkWebhookSettings({ MESH_WEBHOOK_URLS: "http//broken" })).toMatchObject({
      ok: false,
      error: { code: "webhook_invalid", message: expect.stringMatching(/is not an http\(s\) URL/) },
    });
    expect(checkWebhookSettings({ MESH_WEBHOOK_URLS: "http://x.example/h" })).toMatchObject({
      ok: false,
      error: { code: "webhook_invalid", message: expect.stringMatching(/MESH_WEBHOOK_SECRET/) },
    });
    expect(checkWebhookSettings({ MESH_WEBHOOK_URLS: "http://x.example/h", MESH_WEBHOOK_SECRET: "s" })).toEqual({
      ok: true,
      value: undefined,
    });
    expect(checkWebhookSettings({ MESH_WEBHOOK_URLS: "https://hooks.slack.com/services/a/b/c" })).toEqual({
      ok: true,
      value: undefined,
    });
    expect(checkWebhookSettings({})).toEqual({ ok: true, value: undefined });
  });
});
