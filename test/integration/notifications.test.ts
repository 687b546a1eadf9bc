// Webhooks on a real mesh (docs/notifications.md): real agents, real HTTP receivers on loopback. A
// healthy receiver checks the signature and each event (a task at the human step, a notify task's
// end, an agent lost to SIGKILL, the budget's alert and halt); the link in the event lets a person
// act; a receiver failing three times gets the event again after each failure and the final
// delivery is recorded; a Slack-shaped receiver; a target that is down and one that takes 10 s do
// not hold back the healthy one. One mesh for every case; the retry base is shortened to 200 ms.
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NotificationsReply, type TaskView, WebhookBody } from "../../protocol/index.ts";
import { FIXTURES, freePort, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";
import { type Arrival, type Receiver, startReceiver } from "./webhook-receivers.ts";

const SECRET = "webhook-test-secret-0123456789";
const HEARTBEAT_S = 1;
let mesh: Mesh;
const agents: TestAgent[] = [];
let healthy: Receiver;
let flaky: Receiver;
let slack: Receiver;
let slow: Receiver;
let moved: Receiver;
let downPort: number;
/**
 * What the healthy receiver saw of the task when its awaiting_human event arrived, and whether the slow receiver had
 * answered that event by then.
 */
const seenOnArrival = new Map<string, { status?: string; slowDone: boolean }>();

const failing = {
  command: [process.execPath, join(FIXTURES, "exit-with.mjs"), "1", "deepseek"],
  format: "text" as const,
  timeout_s: 60,
};
const passing = {
  command: [process.execPath, join(FIXTURES, "exit-with.mjs"), "0", "codex"],
  format: "text" as const,
  timeout_s: 60,
};
const endCost = {
  command: [process.execPath, join(FIXTURES, "budget-end-cost-cli.mjs"), "{prompt}"],
  format: "claude-stream-json" as const,
  timeout_s: 60,
};

beforeAll(async () => {
  healthy = await startReceiver({ secret: SECRET });
  // Fails the first three requests of every event, then takes it.
  flaky = await startReceiver({ secret: SECRET, answer: (n) => ({ status: n <= 3 ? 500 : 200 }) });
  slack = await startReceiver();
  slow = await startReceiver({ secret: SECRET, answer: () => ({ status: 200, delayMs: 10_000 }) });
  moved = await startReceiver({ secret: SECRET, answer: () => ({ status: 302, location: healthy.url }) });
  downPort = await freePort(); // nothing listens there: a target that is down
  healthy.onArrival = async (arrival) => {
    if (arrival.type !== "task.awaiting_human") return;
    const body = WebhookBody.parse(arrival.json);
    const task = await mesh.api<TaskView>(`/api/tasks/${body.task?.task_id ?? ""}`);
    seenOnArrival.set(body.id, {
      status: task.body.status,
      slowDone: slow.arrivals.some((a) => a.eventId === body.id && a.endedAt !== undefined),
    });
  };
  const urls = [`http://127.0.0.1:${downPort}/hook`, slow.url, moved.url, healthy.url, flaky.url, `slack+${slack.url}`];
  mesh = await startMesh({
    MESH_WEBHOOK_URLS: urls.join(","),
    MESH_WEBHOOK_SECRET: SECRET,
    MESH_WEBHOOK_RETRY_MS: "200",
    MESH_HEARTBEAT_S: String(HEARTBEAT_S),
    MESH_DAILY_HALT_USD: "2",
    MESH_MONTHLY_ALERT_USD: "1",
    // Small estimates: nothing is refused before the CLI's own $1.50 is spent.
    MESH_ESTIMATE_INPUT_TOKENS: "1000",
    MESH_ESTIMATE_OUTPUT_TOKENS: "100",
  });
  agents.push(
    ...(await Promise.all([
      startAgent(mesh, "vm-human", { executors: { deepseek: failing } }),
      startAgent(mesh, "vm-notify", { executors: { codex: passing } }),
      startAgent(mesh, "vm-victim", {
        executors: {
          codex: { command: [process.execPath, join(FIXTURES, "sleeper.mjs")], format: "text", timeout_s: 120 },
        },
      }),
      startAgent(mesh, "vm-spend", { executors: { sonnet: endCost } }),
    ])),
  );
}, 120_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
  for (const receiver of [healthy, flaky, slack, slow, moved]) await receiver?.close();
});

const byHostOf = (
  deliveries: NotificationsReply["deliveries"],
  host: string,
): NotificationsReply["deliveries"][number] | undefined => deliveries.find((d) => d.target_host === host);
const bodies = (receiver: Receiver, type: string): Arrival[] => receiver.arrivals.filter((a) => a.type === type);
const eventOf = (arrival: Arrival): WebhookBody => WebhookBody.parse(arrival.json);
const arrived = (
  receiver: Receiver,
  type: string,
  match: (event: WebhookBody) => boolean,
  timeoutMs = 30_000,
): Promise<WebhookBody> =>
  waitFor(`${type} at ${receiver.url}`, () => bodies(receiver, type).map(eventOf).find(match), timeoutMs);
const create = async (body: Record<string, unknown>): Promise<TaskView> => {
  const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};

describe("webhook notifications", () => {
  it("a task at the human step: a signed event while it waits, whose link lets a person decide", async () => {
    const task = await create({ instruction: "needs a person", agent: "vm-human" });
    const event = await arrived(healthy, "task.awaiting_human", (e) => e.task?.task_id === task.task_id);
    const arrival = bodies(healthy, "task.awaiting_human").find((a) => eventOf(a).id === event.id);
    expect(arrival?.signatureOk).toBe(true);
    expect(event).toMatchObject({
      type: "task.awaiting_human",
      task: { task_id: task.task_id, status: "awaiting_human", tier: "human" },
    });
    expect(event.reason).toMatch(/needs a person/);
    expect(typeof event.task?.cost_usd).toBe("number");
    // It arrived while the task waited for a person, and while the 10 s target still held the same
    // event (answered or given up at 5 s, it would be ended): a slow target delays nobody else.
    const seen = await waitFor("the receiver's look at the task", () => seenOnArrival.get(event.id));
    expect(seen.status).toBe("awaiting_human");
    expect(seen.slowDone).toBe(false);
    // The link opens the task page with an operator credential: it may reject the task.
    const link = new URL(event.url);
    expect(`${link.origin}`).toBe(mesh.url);
    const fragment = new URLSearchParams(link.hash.slice(1));
    expect(fragment.get("task")).toBe(task.task_id);
    const token = fragment.get("token") ?? "";
    expect(token.startsWith("v1.operator.")).toBe(true);
    const rejected = await mesh.api<TaskView>(`/api/tasks/${task.task_id}/resolve`, {
      method: "POST",
      body: { decision: "reject", guidance: "from the webhook link" },
      token,
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe("failed");
    // Rejecting it is no notify task's end: no task.failed follows.
    expect(bodies(healthy, "task.failed").filter((a) => eventOf(a).task?.task_id === task.task_id)).toEqual([]);
  });

  it("a receiver that fails three times gets the event again after each failure; the delivery is recorded", async () => {
    const event = await arrived(flaky, "task.awaiting_human", () => true);
    const tries = await waitFor("four requests to the flaky receiver", () => {
      const got = flaky.arrivals.filter((a) => a.eventId === event.id);
      return got.length >= 4 ? got : null;
    });
    expect(tries.map((a) => a.status)).toEqual([500, 500, 500, 200]);
    expect(tries.every((a) => a.signatureOk === true && a.body.length > 0)).toBe(true);
    const host = new URL(flaky.url).host;
    const listed = await waitFor("the delivery recorded", async () => {
      const reply = await mesh.api<NotificationsReply>("/api/notifications?since=0");
      return reply.body.deliveries.find(
        (d) => d.event_id === event.id && d.target_host === host && d.status === "delivered",
      );
    });
    expect(listed).toMatchObject({ type: "task.awaiting_human", attempts: 4, last_error: "HTTP 500" });
    // Delivered once it took it: no fifth request.
    expect(flaky.arrivals.filter((a) => a.eventId === event.id)).toHaveLength(4);
  });

  it("a Slack target gets Slack's text and blocks, with the task, its cost and a button to act", async () => {
    const arrival = await waitFor("a Slack message", () =>
      slack.arrivals.find((a) => a.type === "task.awaiting_human"),
    );
    const message = arrival.json as {
      text: string;
      blocks: Array<{
        type: string;
        text?: { text: string };
        fields?: Array<{ text: string }>;
        elements?: Array<{ type: string; url?: string; text?: { text: string } }>;
      }>;
    };
    expect(message.text).toMatch(/needs a person/);
    expect(message.text).toMatch(/[0-9A-Z]{26} \(awaiting_human, tier human, \$\d+\.\d{4}\)/);
    const fields = message.blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    expect(fields.some((f) => /\*Cost\*\n\$\d+\.\d{4}/.test(f))).toBe(true);
    const button = message.blocks.find((b) => b.type === "actions")?.elements?.[0];
    expect(button?.type).toBe("button");
    expect(button?.text?.text).toMatch(/Approve, retry or reject/);
    expect(button?.url).toMatch(/#task=[0-9A-Z]{26}&token=v1\.operator\./);
  });

  it("a target that is down, one that redirects and one that takes 10 s are retried and listed, the healthy one delivered", async () => {
    const event = await arrived(healthy, "task.awaiting_human", () => true);
    const reply = await waitFor("failures of the bad targets listed", async () => {
      const { body } = await mesh.api<NotificationsReply>("/api/notifications?since=0");
      const mine = body.deliveries.filter((d) => d.event_id === event.id);
      const down = mine.find((d) => d.target_host === `127.0.0.1:${downPort}`);
      const redirect = mine.find((d) => d.target_host === new URL(moved.url).host);
      const held = mine.find((d) => d.target_host === new URL(slow.url).host);
      return down !== undefined &&
        down.attempts >= 2 &&
        redirect?.last_error !== undefined &&
        held?.last_error !== undefined
        ? { body, mine }
        : null;
    });
    expect(byHostOf(reply.mine, new URL(slow.url).host)?.last_error).toBe("timeout after 5000 ms");
    const byHost = new Map(reply.mine.map((d) => [d.target_host, d]));
    expect(byHost.get(new URL(healthy.url).host)?.status).toBe("delivered");
    expect(byHost.get(`127.0.0.1:${downPort}`)).toMatchObject({ status: "pending" });
    expect(byHost.get(`127.0.0.1:${downPort}`)?.last_error).toMatch(/unreachable/);
    expect(byHost.get(new URL(moved.url).host)?.last_error).toBe("HTTP 302");
    // The redirect was not followed: the healthy receiver got the event once.
    expect(healthy.arrivals.filter((a) => a.eventId === event.id)).toHaveLength(1);
    expect(reply.body.webhook_failures_total).toBeGreaterThanOrEqual(5);
    // An operator link reads the list too (the dashboard's panel); no credential does not.
    const link = new URLSearchParams(new URL(event.url).hash.slice(1)).get("token");
    expect((await mesh.api("/api/notifications?since=0", { token: link })).status).toBe(200);
    expect((await mesh.api("/api/notifications?since=0", { token: null })).status).toBe(401);
  });

  it("a task created with notify: true says when it succeeded; one without says nothing", async () => {
    const quiet = await create({ instruction: "quiet", agent: "vm-notify", executor: "codex" });
    const loud = await create({ instruction: "loud", agent: "vm-notify", executor: "codex", notify: true });
    expect((await mesh.task(loud.task_id)).notify).toBe(true);
    const event = await arrived(healthy, "task.succeeded", (e) => e.task?.task_id === loud.task_id);
    expect(event.task?.status).toBe("succeeded");
    expect((await mesh.finished(quiet.task_id)).status).toBe("succeeded");
    expect(bodies(healthy, "task.succeeded").filter((a) => eventOf(a).task?.task_id === quiet.task_id)).toEqual([]);
    // MCP's execute takes it too.
    const client = new Client({ name: "notifications-test", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${mesh.orchestratorToken}` } },
      }),
    );
    try {
      const result = await client.callTool({
        name: "execute",
        arguments: { instruction: "via mcp", agent: "vm-notify", executor: "codex", notify: true, wait_s: 30 },
      });
      const taskId = (result.structuredContent as { task_id?: string } | undefined)?.task_id;
      await arrived(healthy, "task.succeeded", (e) => e.task?.task_id === taskId);
    } finally {
      await client.close();
    }
  });

  it("an agent killed with SIGKILL while it runs an attempt: agent.lost", async () => {
    const victim = agents.find((a) => a.name === "vm-victim");
    const task = await create({ instruction: "run until killed", agent: "vm-victim", executor: "codex" });
    await waitFor("the attempt running", async () => (await mesh.task(task.task_id)).status === "running");
    victim?.process.kill("SIGKILL");
    const event = await arrived(healthy, "agent.lost", (e) => e.agent?.name === "vm-victim");
    expect(event.agent).toEqual({ name: "vm-victim", running: 1 });
    expect(event.reason).toMatch(/missed three heartbeats/);
    expect(bodies(healthy, "agent.lost").find((a) => eventOf(a).id === event.id)?.signatureOk).toBe(true);
    await mesh.api(`/api/tasks/${task.task_id}/cancel`, { method: "POST" });
  });

  it("the monthly alert, then the daily halt", async () => {
    // Each attempt reports $1.50 at its end, one at a time: the first passes the $1 alert; then the
    // second either passes the $2 halt or, its learned estimate no longer fitting, is not let start.
    const tasks = await Promise.all(
      [1, 2].map(() => create({ instruction: "cost=1.50 pause=50", agent: "vm-spend", executor: "sonnet" })),
    );
    const alert = await arrived(healthy, "budget.alert", () => true);
    expect(alert.budget).toMatchObject({ window: "month", limit_usd: 1 });
    expect(alert.budget?.spent_usd).toBeGreaterThanOrEqual(1);
    for (const task of tasks) await mesh.finished(task.task_id);
    const halted = await arrived(healthy, "budget.halted", () => true);
    expect(halted.budget).toMatchObject({ window: "day", limit_usd: 2 });
    expect(halted.reason).toMatch(/MESH_DAILY_HALT_USD/);
    expect(new URL(halted.url).hash).toMatch(/^#token=v1\.operator\./);
    for (const event of [alert, halted])
      expect(bodies(healthy, event.type).find((a) => eventOf(a).id === event.id)?.signatureOk).toBe(true);
    // Each event once at the healthy receiver.
    expect(bodies(healthy, "budget.alert")).toHaveLength(1);
  });

  it("deliveries and the failure counter survive a server restart, and retries go on after it", async () => {
    const downHost = `127.0.0.1:${downPort}`;
    const list = async (): Promise<NotificationsReply> =>
      (await mesh.api<NotificationsReply>("/api/notifications?since=0")).body;
    const before = await list();
    const pending = before.deliveries.find((d) => d.target_host === downHost && d.status === "pending");
    expect(pending).toBeDefined();
    await mesh.stopServer();
    await mesh.startServer();
    const after = await list();
    expect(after.webhook_failures_total).toBeGreaterThanOrEqual(before.webhook_failures_total);
    expect(after.deliveries.map((d) => d.event_id)).toEqual(
      expect.arrayContaining(before.deliveries.map((d) => d.event_id)),
    );
    // The list wakes the outbox (under partykit dev a stored alarm is not seen to survive a restart): what is due goes
    // again.
    await waitFor("a retry after the restart", async () => {
      const again = (await list()).deliveries.find(
        (d) => d.event_id === pending?.event_id && d.target_host === downHost,
      );
      return (
        again !== undefined &&
        again.attempts >
          (after.deliveries.find((d) => d.event_id === pending?.event_id && d.target_host === downHost)?.attempts ?? 0)
      );
    });
  });
});
