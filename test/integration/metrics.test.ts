// GET /metrics (docs/metrics.md) on a real mesh with a real agent: tasks that succeed and fail with a
// class, then a scrape read by a maintained Prometheus text parser, each series checked against what
// the API says (tasks, agents, queue, budget, the stage ledger); the credentials; a restart.
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  AgentRecord,
  BudgetStatus,
  NotificationsReply,
  QueueEntry,
  StageRecord,
  TaskSummary,
  TaskView,
  TraceExportStatus,
} from "../../protocol/index.ts";
import { type ParsedFamily, parseScrape, samplesOf, sampleValue } from "../metrics/prometheus-text.ts";
import { FIXTURES, freePort, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const METRICS_TOKEN = "metrics-token-for-the-scraper-0123456789";
let mesh: Mesh;
let agent: TestAgent;

// A claude stand-in: its prompt says what to replay (test/fixtures/cli/fake-cli.mjs).
const claude = {
  command: [process.execPath, join(FIXTURES, "cli/fake-cli.mjs"), "{prompt}"],
  format: "claude-stream-json" as const,
  timeout_s: 60,
};

beforeAll(async () => {
  // Webhooks go to a port nothing listens on: each request fails, and the outbox counts it.
  const closed = await freePort();
  mesh = await startMesh({
    MESH_METRICS_TOKEN: METRICS_TOKEN,
    MESH_WEBHOOK_URLS: `http://127.0.0.1:${closed}/hook`,
    MESH_WEBHOOK_SECRET: "webhook-secret-for-the-metrics-test-0123",
    MESH_WEBHOOK_RETRY_MS: "200",
  });
  agent = await startAgent(mesh, "vm-metrics", { executors: { sonnet: claude, opus: claude } }, { capacity: 2 });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

async function scrape(
  token: string | null = METRICS_TOKEN,
): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${mesh.url}/metrics`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

async function families(): Promise<Map<string, ParsedFamily>> {
  const { status, text } = await scrape();
  expect(status).toBe(200);
  return parseScrape(text);
}

/** Counts of items by a key, as a plain object without zero entries. */
function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** A family's samples by one label, without zero entries. */
function byLabel(parsed: Map<string, ParsedFamily>, name: string, label: string): Record<string, number> {
  return Object.fromEntries(
    samplesOf(parsed, name)
      .filter((s) => s.value !== 0)
      .map((s) => [s.labels[label] ?? "", s.value]),
  );
}

describe("GET /metrics", () => {
  it("refuses a scrape without a credential or with a wrong one (401), and takes MESH_METRICS_TOKEN and the orchestrator token", async () => {
    const none = await scrape(null);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text)).toMatchObject({ error: { code: "unauthorized" } });
    expect((await scrape("not-the-token-but-just-as-long-as-one-0000")).status).toBe(401);
    // A dashboard link reads the dashboard, not the metrics.
    const link = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: {} })).body.token;
    expect((await scrape(link)).status).toBe(401);
    const viaMetricsToken = await scrape();
    expect(viaMetricsToken.status).toBe(200);
    expect(viaMetricsToken.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect((await scrape(mesh.orchestratorToken)).status).toBe(200);
    // The metrics token opens nothing else.
    expect((await mesh.api("/api/tasks", { token: METRICS_TOKEN })).status).toBe(401);
  });

  it("reports what the API reports after a task succeeds and one fails with a class", async () => {
    const ok = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "play=claude-success.jsonl pause=5", executor: "sonnet", notify: true },
    });
    const bad = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "play=claude-auth-failure.jsonl pause=5 exit=1", executor: "opus" },
    });
    expect([ok.status, bad.status]).toEqual([201, 201]);
    const done = [await mesh.finished(ok.body.task_id), await mesh.finished(bad.body.task_id)];
    expect(done.map((task) => task.status)).toEqual(["succeeded", "failed"]);
    expect(done[1]?.attempts[0]?.failure_class).toBe("auth_failure");

    // The agent releases its slots just after the attempts close: wait until the API and the scrape agree.
    const parsed = await waitFor("the scrape to match the API", async () => {
      const [scraped, agents, tasks, queue] = await Promise.all([
        families(),
        mesh.api<{ agents: AgentRecord[] }>("/api/agents"),
        mesh.api<{ tasks: TaskSummary[] }>("/api/tasks?limit=500"),
        mesh.api<{ queue: QueueEntry[] }>("/api/queue"),
      ]);
      const online = agents.body.agents.filter((a) => a.state === "online");
      const busy = online.reduce((sum, a) => sum + Math.min(a.running.length, a.capacity), 0);
      const idle = online.reduce((sum, a) => sum + a.capacity, 0) - busy;
      const same =
        isDeepStrictEqual(
          byLabel(scraped, "agent_mesh_tasks", "status"),
          countBy(tasks.body.tasks, (t) => t.status),
        ) &&
        isDeepStrictEqual(
          byLabel(scraped, "agent_mesh_agents", "state"),
          countBy(agents.body.agents, (a) => a.state),
        ) &&
        isDeepStrictEqual(
          byLabel(scraped, "agent_mesh_queue_depth", "tier"),
          countBy(queue.body.queue, (q) => q.tier),
        ) &&
        sampleValue(scraped, "agent_mesh_agent_slots", { state: "busy" }) === busy &&
        sampleValue(scraped, "agent_mesh_agent_slots", { state: "idle" }) === idle;
      return same && busy === 0 ? scraped : null;
    });
    expect(byLabel(parsed, "agent_mesh_tasks", "status")).toEqual({ failed: 1, succeeded: 1 });
    expect(sampleValue(parsed, "agent_mesh_agent_slots", { state: "idle" })).toBe(2);

    // Attempts by tier and class: the tasks' own attempts, and the budget's stage ledger.
    const attempts = done.flatMap((task) => task.attempts);
    const stages = (await mesh.api<{ stages: StageRecord[] }>("/api/budget/stages")).body.stages;
    const scrapedAttempts = Object.fromEntries(
      samplesOf(parsed, "agent_mesh_attempts_total").map((s) => [`${s.labels.tier}/${s.labels.class}`, s.value]),
    );
    expect(scrapedAttempts).toEqual({ "sonnet/succeeded": 1, "opus/auth_failure": 1 });
    expect(scrapedAttempts).toEqual(
      countBy(attempts, (a) => `${a.tier}/${a.status === "succeeded" ? "succeeded" : a.failure_class}`),
    );
    expect(scrapedAttempts).toEqual(
      countBy(stages, (s) => `${s.tier}/${s.outcome === "succeeded" ? "succeeded" : s.failure_class}`),
    );

    // Spend: today's and by tier, as the budget reports them (a fresh mesh: everything was spent today).
    const budget = (await mesh.api<BudgetStatus>("/api/budget")).body;
    expect(budget.day.spent_usd).toBeGreaterThan(0);
    expect(sampleValue(parsed, "agent_mesh_budget_today_usd")).toBeCloseTo(budget.day.spent_usd, 10);
    for (const [tier, spent] of Object.entries(budget.by_tier))
      expect(sampleValue(parsed, "agent_mesh_spend_usd_total", { tier })).toBeCloseTo(spent, 10);
    expect(sampleValue(parsed, "agent_mesh_spend_usd_total", { tier: "sonnet" })).toBeCloseTo(
      attempts.filter((a) => a.tier === "sonnet").reduce((sum, a) => sum + a.cost_usd, 0),
      10,
    );

    // The dispatch wait: one observation per hand-out, buckets cumulative up to +Inf = count.
    const dispatch = parsed.get("agent_mesh_dispatch_seconds");
    expect(dispatch?.type).toBe("HISTOGRAM");
    const histogram = dispatch?.metrics[0];
    expect(Number(histogram?.count)).toBe(attempts.length);
    // In the order of their bounds (an object's integer-like keys come first), counts never fall.
    const buckets = Object.entries(histogram?.buckets ?? {})
      .sort(([a], [b]) => Number(a === "+Inf" ? Infinity : a) - Number(b === "+Inf" ? Infinity : b))
      .map(([, count]) => Number(count));
    expect(buckets.length).toBeGreaterThan(10);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(histogram?.buckets?.["+Inf"]).toBe(histogram?.count);
    expect(Number(histogram?.sum)).toBeGreaterThanOrEqual(0);

    // The succeeded task asked to be told: its webhook fails, again at each retry, and the outbox counts each.
    await waitFor("webhook failures counted alike in the scrape and the API", async () => {
      const [scraped, outbox] = await Promise.all([families(), mesh.api<NotificationsReply>("/api/notifications")]);
      const failures = sampleValue(scraped, "agent_mesh_webhook_failures_total");
      return failures !== undefined && failures > 0 && failures === outbox.body.webhook_failures_total;
    });
    // The trace room's counters (no collector is set: finished tasks' spans are dropped and counted); spans reach it
    // after the task ends.
    await waitFor("the trace counters to match /api/traces", async () => {
      const [scraped, traces] = await Promise.all([families(), mesh.api<TraceExportStatus>("/api/traces")]);
      return (
        sampleValue(scraped, "agent_mesh_spans_dropped_total") === traces.body.dropped_total &&
        sampleValue(scraped, "agent_mesh_spans_exported_total") === traces.body.exported_total
      );
    });
    expect(samplesOf(parsed, "agent_mesh_metrics_room_up").every((s) => s.value === 1)).toBe(true);
  }, 90_000);

  it("keeps its counts across a server restart", async () => {
    const before = await families();
    await mesh.stopServer();
    await mesh.startServer();
    const after = await families();
    for (const name of ["agent_mesh_tasks", "agent_mesh_attempts_total", "agent_mesh_spend_usd_total"])
      expect(samplesOf(after, name), name).toEqual(samplesOf(before, name));
    expect(after.get("agent_mesh_dispatch_seconds")?.metrics).toEqual(
      before.get("agent_mesh_dispatch_seconds")?.metrics,
    );
  }, 90_000);
});
