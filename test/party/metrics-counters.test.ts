import { describe, expect, it } from "vitest";
import {
  decideRegistry,
  emptyRegistry,
  type RegistryContext,
  type RegistryState,
} from "../../party/agent-registry/registry-actor.ts";
import {
  attemptClass,
  countSettled,
  emptyAttemptCounters,
  storedAttemptCounters,
} from "../../party/metrics/attempt-counters.ts";
import {
  DISPATCH_HISTOGRAM_KEY,
  DispatchHistogram,
  emptyHistogram,
  handedOut,
  registryGauges,
} from "../../party/metrics/registry-metrics.ts";
import { countStatusChange, TASK_STATUS_COUNTS_KEY, TaskStatusTally } from "../../party/metrics/task-status-tally.ts";
import type { AgentRecord, DispatchRequest, TaskStatus } from "../../protocol/index.ts";

describe("tasks by status (the directory's tally)", () => {
  it("moves one count per change and never goes below zero", () => {
    expect(countStatusChange({ queued: 1 }, "queued", "running")).toEqual({ queued: 0, running: 1 });
    expect(countStatusChange({ running: 1 }, "running", undefined)).toEqual({ running: 0 });
    expect(countStatusChange({}, "failed", undefined)).toEqual({ failed: 0 });
    const same = { queued: 1 };
    expect(countStatusChange(same, "queued", "queued")).toBe(same);
  });

  /** The directory's storage as the tally sees it: listed statuses and the stored counts. */
  function directory(listed: Record<string, TaskStatus>, stored?: unknown) {
    const data = new Map<string, unknown>(stored === undefined ? [] : [[TASK_STATUS_COUNTS_KEY, stored]]);
    let listings = 0;
    const tally = new TaskStatusTally({
      stored: async () => data.get(TASK_STATUS_COUNTS_KEY),
      allStatuses: async () => {
        listings++;
        return Object.values(listed);
      },
      // A read that takes a turn of the event loop, so two changes could interleave if they were not taken in turn.
      statusOf: async (taskId) => new Promise((done) => setTimeout(() => done(listed[taskId]), 1)),
    });
    const change = (taskId: string, to: TaskStatus | undefined) =>
      tally.change(taskId, to, async (entry) => {
        if (to === undefined) delete listed[taskId];
        else listed[taskId] = to;
        for (const [key, value] of Object.entries(entry)) data.set(key, value);
      });
    return { tally, change, data, listings: () => listings };
  }

  it("counts a directory that stored no counts from its listing once, then keeps them", async () => {
    const d = directory({ a: "succeeded", b: "running", c: "running" });
    expect(await d.tally.current()).toEqual({ succeeded: 1, running: 2 });
    await d.change("b", "failed");
    await d.change("d", "queued");
    await d.change("c", undefined);
    expect(await d.tally.current()).toEqual({ succeeded: 1, running: 0, failed: 1, queued: 1 });
    expect(d.data.get(TASK_STATUS_COUNTS_KEY)).toEqual({ succeeded: 1, running: 0, failed: 1, queued: 1 });
    expect(d.listings()).toBe(1);
  });

  it("trusts stored counts without reading the listing", async () => {
    const d = directory({ a: "running" }, { running: 7 });
    expect(await d.tally.current()).toEqual({ running: 7 });
    expect(d.listings()).toBe(0);
  });

  it("takes changes of one task in turn: two at once do not both count from its old status", async () => {
    const d = directory({ a: "queued" }, { queued: 1 });
    await Promise.all([d.change("a", "running"), d.change("a", "succeeded")]);
    expect(await d.tally.current()).toEqual({ queued: 0, running: 0, succeeded: 1 });
  });
});

describe("attempts by tier and class, and spend (the budget's counters)", () => {
  it("labels an attempt succeeded or by its failure class", () => {
    expect(attemptClass({ outcome: "succeeded" })).toBe("succeeded");
    expect(attemptClass({ outcome: "failed", failure_class: "test_fail" })).toBe("test_fail");
    expect(attemptClass({ outcome: "failed" })).toBe("unknown");
    expect(attemptClass({ outcome: "cancelled" })).toBe("cancelled");
  });

  it("adds each settled attempt and its cost under its tier", () => {
    let counters = emptyAttemptCounters();
    counters = countSettled(counters, { tier: "sonnet", outcome: "failed", failure_class: "test_fail", cost_usd: 0.1 });
    counters = countSettled(counters, { tier: "sonnet", outcome: "succeeded", cost_usd: 0.25 });
    counters = countSettled(counters, { tier: "opus", outcome: "failed", failure_class: "test_fail", cost_usd: 1 });
    counters = countSettled(counters, { tier: "sonnet", outcome: "failed", failure_class: "test_fail", cost_usd: 0 });
    expect(counters).toEqual({
      attempts: { sonnet: { test_fail: 2, succeeded: 1 }, opus: { test_fail: 1 } },
      spend_usd: { sonnet: 0.35, opus: 1 },
    });
    expect(storedAttemptCounters(JSON.parse(JSON.stringify(counters)))).toEqual(counters);
    expect(storedAttemptCounters({ attempts: "garbled" })).toEqual(emptyAttemptCounters());
  });
});

describe("the registry's series", () => {
  const ctx = (now: number): RegistryContext => ({ now, heartbeatMs: 5000, idleFlagS: 300, startedAt: 0 });
  const request = (taskId: string, requestedAt: number, tier: "sonnet" | "opus" = "sonnet"): DispatchRequest => ({
    type: "dispatch.request",
    assign: { type: "task.assign", task_id: taskId, attempt: 1, tier, prompt: "do it" },
    selector: { by: "any" },
    requested_at: requestedAt,
  });
  const agent = (name: string, state: AgentRecord["state"], capacity: number, running: number): AgentRecord => ({
    name,
    kind: "vm",
    tiers: ["sonnet"],
    capacity,
    version: "1",
    state,
    registered_at: 0,
    last_heartbeat: 0,
    running: Array.from({ length: running }, (_, i) => ({ task_id: `t${i}`, attempt: 1 })),
  });

  it("count the queue by tier, agents by state and the slots of online agents only", () => {
    const gauges = registryGauges(
      [request("a", 0), request("b", 0), request("c", 0, "opus")],
      [
        agent("one", "online", 3, 1),
        agent("two", "online", 1, 2),
        agent("gone", "lost", 4, 1),
        agent("old", "offline", 2, 0),
      ],
    );
    expect(gauges.queue).toMatchObject({ sonnet: 2, opus: 1, deepseek: 0 });
    expect(gauges.agents).toEqual({ online: 2, stale: 0, lost: 1, offline: 1, revoked: 0 });
    expect(gauges.slots).toEqual({ busy: 2, idle: 2 });
  });

  it("time each hand-out from its dispatch request, from the actor's own assign effects", async () => {
    let state: RegistryState = emptyRegistry();
    const hello = decideRegistry(
      state,
      {
        type: "hello-received",
        hello: {
          type: "agent.hello",
          protocol_version: 1,
          name: "a1",
          kind: "vm",
          tiers: ["sonnet"],
          capacity: 1,
          version: "1",
          running: [],
        },
        connectionId: "c1",
        identity: { via: "enrollment", tokenName: "default", credential: "mesh-agent:a1:secret", credentialHash: "h" },
      },
      ctx(1000),
    );
    state = hello.state;
    const queued = decideRegistry(state, { type: "dispatch-requested", request: request("t1", 1000) }, ctx(1250));
    expect(handedOut(queued.effects, queued.state.assigned).map((r) => r.assign.task_id)).toEqual(["t1"]);
    const second = decideRegistry(
      queued.state,
      { type: "dispatch-requested", request: request("t2", 1300) },
      ctx(1300),
    );
    expect(handedOut(second.effects, second.state.assigned)).toEqual([]);

    const storage = new Map<string, unknown>();
    const histogram = new DispatchHistogram({
      get: async (key) => storage.get(key),
      put: async (key, value) => void storage.set(key, value),
    });
    histogram.record(queued.effects, queued.state.assigned, 1250);
    histogram.record(second.effects, second.state.assigned, 1300);
    const now = await histogram.current();
    expect(now.count).toBe(1);
    expect(now.sum).toBeCloseTo(0.25);
    expect(now.counts[5]).toBe(1); // 0.25 s falls in the le=0.25 bucket
    // Stored, so a restarted registry goes on from it.
    const restarted = new DispatchHistogram({ get: async (key) => storage.get(key), put: async () => undefined });
    expect((await restarted.current()).count).toBe(1);
  });

  it("start again from zero when the stored histogram has other buckets", async () => {
    const stale = { ...emptyHistogram([1, 2]), count: 9 };
    const histogram = new DispatchHistogram({
      get: async (key) => (key === DISPATCH_HISTOGRAM_KEY ? stale : undefined),
      put: async () => undefined,
    });
    expect((await histogram.current()).count).toBe(0);
  });
});
