// The dashboard's notifications panel model (docs/notifications.md): the reply parsed, each delivery's
// cells, and the summary line.
import { describe, expect, it } from "vitest";
import type { NotificationDelivery } from "../../protocol/index.ts";
import { deliveryCells, notificationsSummary, parseNotifications } from "../../web/src/notifications-model.ts";

const delivery = (changes: Partial<NotificationDelivery>): NotificationDelivery => ({
  event_id: "T:awaiting_human:1",
  type: "task.awaiting_human",
  target_host: "hooks.example",
  attempts: 1,
  status: "delivered",
  created_at: 0,
  updated_at: 0,
  ...changes,
});

describe("notifications panel model", () => {
  it("parses the reply, and refuses a shape it does not know", () => {
    const reply = { deliveries: [delivery({})], webhook_failures_total: 2 };
    expect(parseNotifications(JSON.stringify(reply))).toEqual(reply);
    expect(parseNotifications("{}")).toBeNull();
    expect(parseNotifications("not json")).toBeNull();
  });

  it("shows a retrying delivery's next try and its last error", () => {
    const cells = deliveryCells(
      delivery({ status: "pending", attempts: 3, next_at: 9_000, last_error: "HTTP 500", updated_at: 4_000 }),
      5_000,
    );
    expect(cells).toMatchObject({
      target: "hooks.example",
      attempts: "3",
      status: "pending (next try in 4 s)",
      lastError: "HTTP 500",
    });
    expect(deliveryCells(delivery({}), 0).status).toBe("delivered");
  });

  it("sums up deliveries, retries, give-ups and failed requests", () => {
    const reply = {
      deliveries: [delivery({}), delivery({ status: "pending" }), delivery({ status: "failed" })],
      webhook_failures_total: 7,
    };
    expect(notificationsSummary(reply)).toBe("3 deliveries · 1 retrying · 1 given up · 7 failed requests");
  });
});
