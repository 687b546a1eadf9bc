// The pure rules of scheduling outside the task actor (docs/scheduling.md): the registry's queue in serving order and
// its timeout, routing rules, resume hints and budget reservations.
import { describe, expect, it } from "vitest";
import { enqueue, expireUnserved, inServingOrder, queueView } from "../../party/agent-registry/dispatch-queue.ts";
import { emptyBudget, reserve, reservedUsd } from "../../party/budget-room/budget-book.ts";
import { resumeOf, withWaiting } from "../../party/task-room/task-schedule.ts";
import {
  type AgentRecord,
  type Attempt,
  DEFAULT_ROUTES,
  type DispatchRequest,
  routesFromSetting,
  routeTask,
  type TaskRecord,
} from "../../protocol/index.ts";

const TASK_ID = "01J00000000000000000000000";

const request = (
  task: string,
  priority: number | undefined,
  extra: Partial<DispatchRequest> = {},
): DispatchRequest => ({
  type: "dispatch.request",
  assign: { type: "task.assign", task_id: task, attempt: 1, tier: "opus", prompt: "p" },
  selector: { by: "any" },
  requested_at: 1,
  ...(priority === undefined ? {} : { priority }),
  ...extra,
});
const agent = (name: string, tiers: AgentRecord["tiers"], state: AgentRecord["state"] = "online"): AgentRecord => ({
  name,
  kind: "vm",
  tiers,
  capacity: 1,
  version: "1",
  registered_at: 0,
  last_heartbeat: 0,
  running: [],
  state,
});

describe("the registry's queue", () => {
  it("keeps serving order: higher priority first, arrival order within one (5 when absent)", () => {
    let queue: DispatchRequest[] = [];
    for (const [task, priority] of [
      ["a", 1],
      ["b", 9],
      ["c", undefined],
      ["d", 5],
      ["e", 9],
    ] as const)
      queue = enqueue(queue, request(task, priority));
    expect(queueView(queue).map((e) => [e.position, e.task_id, e.priority])).toEqual([
      [1, "b", 9],
      [2, "e", 9],
      [3, "c", 5],
      [4, "d", 5],
      [5, "a", 1],
    ]);
    expect(inServingOrder([request("x", 1), request("y", 7), request("z", 1)]).map((r) => r.assign.task_id)).toEqual([
      "y",
      "x",
      "z",
    ]);
  });

  it("marks a request no online agent serves, expires it after its timeout with a message naming the tier and who was online, and forgets marks once served", () => {
    const waiting = request("t", 5, { queue_timeout_s: 10 });
    const fleet = [agent("vm-1", ["deepseek"]), agent("vm-2", ["opus"], "offline")];
    const first = expireUnserved([waiting], {}, fleet, 1000);
    expect(first).toMatchObject({ expired: [], unserved: { "t:1": 1000 }, changed: true });
    expect(expireUnserved(first.pending, first.unserved, fleet, 5000)).toMatchObject({ expired: [], changed: false });
    const late = expireUnserved(first.pending, first.unserved, fleet, 11_000);
    expect(late.pending).toEqual([]);
    expect(late.expired[0]?.message).toContain("tier opus");
    expect(late.expired[0]?.message).toContain("vm-1 (deepseek)");
    expect(late.expired[0]?.message).not.toContain("vm-2");
    // A serving agent, busy or not, clears the mark: waiting behind a busy fleet is not a timeout.
    const busy = { ...agent("vm-3", ["opus"]), running: [{ task_id: "other", attempt: 1 }] };
    expect(expireUnserved(first.pending, first.unserved, [busy], 99_000)).toMatchObject({
      pending: [waiting],
      unserved: {},
      expired: [],
      changed: true,
    });
    // With the registry's tier index, only the agents it names are asked: none named, none serving.
    expect(expireUnserved([waiting], {}, [busy], 1000, () => [])).toMatchObject({ unserved: { "t:1": 1000 } });
    expect(expireUnserved([waiting], { "t:1": 1000 }, [busy], 99_000, () => ["vm-3"])).toMatchObject({
      unserved: {},
      changed: true,
    });
  });
});

describe("routing rules", () => {
  it("takes the first matching rule, by kind, instruction length and allowed paths; the last is the default", () => {
    const table = routesFromSetting(
      JSON.stringify([
        { name: "small-docs", kind: ["docs", "typo"], max_chars: 100, tier: "deepseek" },
        { kind: "docs", tier: "gemini-flash" },
        { min_paths: 3, tier: "opus" },
        { name: "rest", tier: "sonnet" },
      ]),
    );
    if (table === null || !("table" in table)) throw new Error("the table did not parse");
    expect(routeTask(table.table, { kind: "docs", instruction: "short", allowedPaths: 0 })).toEqual({
      tier: "deepseek",
      rule: "small-docs",
    });
    expect(routeTask(table.table, { kind: "docs", instruction: "x".repeat(500), allowedPaths: 0 })).toEqual({
      tier: "gemini-flash",
      rule: "rule 2",
    });
    expect(routeTask(table.table, { kind: undefined, instruction: "x", allowedPaths: 4 })).toEqual({
      tier: "opus",
      rule: "rule 3",
    });
    expect(routeTask(table.table, { kind: "feature", instruction: "x", allowedPaths: 0 })).toEqual({
      tier: "sonnet",
      rule: "rest",
    });
    expect(routeTask(DEFAULT_ROUTES, { kind: "docs", instruction: "x", allowedPaths: 0 }).tier).toBe("deepseek");
  });

  it("refuses a table that is not JSON, has a bad tier, or whose last rule has conditions", () => {
    expect(routesFromSetting("{")).toEqual({ problem: "MESH_ROUTES is not valid JSON" });
    expect(routesFromSetting(JSON.stringify([{ tier: "gpt" }]))).toMatchObject({
      problem: expect.stringContaining("tier"),
    });
    expect(routesFromSetting(JSON.stringify([{ kind: "docs", tier: "opus" }]))).toMatchObject({
      problem: expect.stringContaining("the last rule is the default"),
    });
    expect(routesFromSetting(undefined)).toBeNull();
  });
});

const attempt = (n: number, overrides: Partial<Attempt> = {}): Attempt => ({
  n,
  tier: "sonnet",
  executor: "claude",
  agent: "mac-1",
  status: "failed",
  tokens: { input: 0, output: 0 },
  cost_usd: 0,
  latency_ms: 0,
  dispatched_at: n,
  ...overrides,
});
const taskWith = (attempts: Attempt[]): TaskRecord => ({
  task_id: TASK_ID,
  status: "queued",
  instruction: "x",
  tier: "sonnet",
  agent_selector: { by: "any" },
  attempts,
  tokens: { input: 0, output: 0 },
  cost_usd: 0,
  latency_ms: 0,
  created_at: 0,
  updated_at: 0,
});

describe("resume hints", () => {
  it("continues the latest session at the same tier on a person's retry, with the guidance as its prompt", () => {
    const retry = attempt(3, { role: "retry", guidance: "use the helper", status: "dispatched", agent: null });
    const task = taskWith([
      attempt(1, { session_id: "s-1" }),
      attempt(2, { session_id: "s-2", agent: "mac-2" }),
      retry,
    ]);
    expect(resumeOf(task, retry).resume).toEqual({
      attempt: 2,
      agent: "mac-2",
      tier: "sonnet",
      session_id: "s-2",
      prompt: "A person reviewed your work and asks: use the helper",
    });
  });

  it("says why it cannot: no session id seen, no earlier attempt at the tier; a plain climb never resumes", () => {
    const retry = attempt(2, { role: "retry", status: "dispatched", agent: null });
    expect(resumeOf(taskWith([attempt(1), retry]), retry)).toEqual({ why: "attempt 1 reported no session id" });
    const elsewhere = { ...retry, tier: "opus" as const };
    expect(resumeOf(taskWith([attempt(1, { session_id: "s" }), elsewhere]), elsewhere).why).toContain(
      "no earlier attempt ran at opus",
    );
    const climb = attempt(2, { tier: "opus", role: "sequential", status: "dispatched", agent: null });
    expect(resumeOf(taskWith([attempt(1, { session_id: "s" }), climb]), climb)).toEqual({});
  });

  it("continues a lost attempt's session when its id was seen", () => {
    const retry = attempt(2, { status: "dispatched", agent: null });
    const task = taskWith([attempt(1, { failure_class: "agent_lost", session_id: "s-lost" }), retry]);
    expect(resumeOf(task, retry).resume).toMatchObject({ attempt: 1, agent: "mac-1", session_id: "s-lost" });
  });

  it("derives waiting from the attempts: an agent for the oldest waiting attempt, nothing once running", () => {
    expect(
      withWaiting(taskWith([attempt(1, { status: "dispatched", agent: null, tier: "codex", dispatched_at: 7 })]))
        .waiting,
    ).toEqual({ for: "agent", tier: "codex", since: 7 });
    expect(
      withWaiting({ ...taskWith([attempt(1, { status: "running" })]), status: "running" }).waiting,
    ).toBeUndefined();
  });
});

describe("budget reservations follow the tier", () => {
  it("replaces a reservation made at another tier, and keeps one at the same tier", () => {
    const limits = { dailyHaltUsd: 100, monthlyAlertUsd: 1000, estimate: { input: 100_000, output: 10_000 } };
    const first = reserve(
      emptyBudget(0),
      { type: "budget.reserve", task_id: TASK_ID, attempt: 1, tier: "deepseek" },
      0,
      limits,
    );
    const cheap = reservedUsd(first.state);
    const moved = reserve(
      first.state,
      { type: "budget.reserve", task_id: TASK_ID, attempt: 1, tier: "opus" },
      0,
      limits,
    );
    expect(Object.values(moved.state.reservations).map((r) => r.tier)).toEqual(["opus"]);
    expect(reservedUsd(moved.state)).toBeGreaterThan(cheap);
    expect(
      reserve(moved.state, { type: "budget.reserve", task_id: TASK_ID, attempt: 1, tier: "opus" }, 0, limits).state,
    ).toBe(moved.state);
  });
});
