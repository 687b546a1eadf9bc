// The pure steps of scheduling (docs/scheduling.md): the task actor's graph and timeout events, the registry's
// queue in serving order and its timeout, routing rules, resume hints and budget reservations.
import { describe, expect, it } from "vitest";
import { enqueue, expireUnserved, inServingOrder, queueView } from "../../party/agent-registry/dispatch-queue.ts";
import { emptyBudget, reserve, reservedUsd } from "../../party/budget-room/budget-book.ts";
import {
  decide,
  emptyTaskActor,
  type TaskActorContext,
  type TaskActorState,
  type TaskEvent,
} from "../../party/task-room/task-actor.ts";
import { resumeOf, withWaiting } from "../../party/task-room/task-schedule.ts";
import {
  type AgentRecord,
  type Attempt,
  DEFAULT_ROUTES,
  type DispatchRequest,
  ok,
  routesFromSetting,
  routeTask,
  type TaskCreate,
  type TaskRecord,
} from "../../protocol/index.ts";

const TASK_ID = "01J00000000000000000000000";
const A = "01J0000000000000000000000A";
const B = "01J0000000000000000000000B";
const ctx = (now: number): TaskActorContext => ({
  now,
  taskId: TASK_ID,
  config: { consensusTiers: ["opus"], consensusSize: 2 },
});
const create = (overrides: Partial<TaskCreate> = {}): TaskCreate => ({
  type: "task.create",
  task_id: TASK_ID,
  instruction: "write the docs",
  tier: "deepseek",
  agent_selector: { by: "any" },
  ...overrides,
});

function drive(events: TaskEvent[], state: TaskActorState = emptyTaskActor()): ReturnType<typeof decide> {
  let now = 1000;
  let last = decide(state, events[0] ?? { type: "room-resumed" }, ctx(now));
  for (const event of events.slice(1)) last = decide(last.state, event, ctx((now += 10)));
  return last;
}
const admitted: TaskEvent = {
  type: "admission-answered",
  reservation: ok({}),
  claim: ok({}),
  served: ["deepseek", "sonnet"],
};
const news = (task_id: string, status: "succeeded" | "failed" | "cancelled" | "running"): TaskEvent => ({
  type: "dependency-heard",
  news: { type: "task.dependency", task_id, status },
});

describe("task graphs in the task actor", () => {
  it("admits a task that waits for others without reserving, and asks them to tell it when they end", () => {
    const asked = decide(emptyTaskActor(), { type: "create-requested", command: create({ after: [A, B] }) }, ctx(1000));
    expect(asked.effects).toEqual([expect.objectContaining({ kind: "ask-admission" })]);
    expect(asked.effects[0]).not.toHaveProperty("reserve");
    const made = drive([{ type: "create-requested", command: create({ after: [A, B] }) }, admitted]);
    expect(made.state.task).toMatchObject({
      status: "queued",
      attempts: [],
      after: [A, B],
      waiting: { for: "tasks", ids: [A, B] },
    });
    expect(made.effects.map((e) => e.kind)).toEqual(["store-task", "watch-tasks"]);
    expect(made.effects).toContainEqual({ kind: "watch-tasks", ids: [A, B] });
  });

  it("starts once every prerequisite succeeded: one news at a time, then begin, then a reservation at the served tier", () => {
    const base = [
      { type: "create-requested", command: create({ after: [A, B], tier: "gemini-flash" }) } as TaskEvent,
      admitted,
    ];
    const one = drive([...base, news(A, "succeeded")]);
    expect(one.state.task?.waiting).toMatchObject({ for: "tasks", ids: [B] });
    expect(one.effects.map((e) => e.kind)).not.toContain("read-served-tiers");
    expect(drive([...base, news(A, "running")]).state.task?.waiting?.ids).toEqual([A, B]);
    const ready = drive([...base, news(A, "succeeded"), news(B, "succeeded")]);
    expect(ready.effects.map((e) => e.kind)).toContain("read-served-tiers");
    const begun = drive([
      ...base,
      news(A, "succeeded"),
      news(B, "succeeded"),
      { type: "served-tiers-read", served: ["sonnet"] },
    ]);
    expect(begun.state.task).toMatchObject({
      status: "queued",
      tier: "sonnet",
      attempts: [{ n: 1, tier: "sonnet", status: "dispatched" }],
      waiting: { for: "agent", tier: "sonnet" },
    });
    expect(begun.effects).toContainEqual({ kind: "reserve-attempt", attempt: 1, tier: "sonnet" });
  });

  it("fails as dependency_failed when a prerequisite fails or is cancelled, with nothing reserved, and tells its own dependents", () => {
    const watched = drive([
      { type: "create-requested", command: create({ after: [A] }) },
      admitted,
      { type: "watch-requested", dependent: B },
    ]);
    expect(watched.state.task?.dependents).toEqual([B]);
    for (const status of ["failed", "cancelled"] as const) {
      const failed = drive([news(A, status)], watched.state);
      expect(failed.state.task).toMatchObject({ status: "failed", attempts: [], error: { code: "dependency_failed" } });
      expect(failed.state.task?.error?.message).toContain(A);
      expect(failed.effects.map((e) => e.kind)).not.toContain("reserve-attempt");
      expect(failed.effects).toContainEqual({
        kind: "notify-dependents",
        dependents: [B],
        news: expect.objectContaining({ task_id: TASK_ID, status: "failed" }),
      });
    }
  });

  it("answers a watch of a task already over with the task, without remembering the watcher", () => {
    const done = drive([
      { type: "create-requested", command: create() },
      admitted,
      { type: "cancel-requested", held: [] },
    ]);
    const watch = decide(done.state, { type: "watch-requested", dependent: B }, ctx(5000));
    expect(watch.reply).toMatchObject({ ok: true, value: { status: "cancelled" } });
    expect(watch.state.task?.dependents).toBeUndefined();
  });
});

describe("CLI sessions in the task actor", () => {
  it("keeps the session id a running attempt's agent reports, so a retry after its loss continues it", () => {
    const running = drive([
      { type: "create-requested", command: create() },
      admitted,
      { type: "reservation-answered", attempt: 1, result: ok({}) },
      {
        type: "start-answered",
        hello: { type: "attempt.hello", protocol_version: 1, agent: "vm-1", attempt: 1, executor: "claude" },
        connectionId: "c1",
        grant: ok({ cap_usd: 1, estimate_usd: 0.45 }),
        linesStored: 0,
      },
    ]);
    const noted = drive([{ type: "session-reported", attempt: 1, sessionId: "sess-1" }], running.state);
    expect(noted.state.task?.attempts[0]?.session_id).toBe("sess-1");
    expect(drive([{ type: "session-reported", attempt: 1, sessionId: "sess-1" }], noted.state).effects).toEqual([]);
    const lost = drive(
      [{ type: "agent-lost", attempt: 1, agent: "vm-1", reason: "missed three heartbeats" }],
      noted.state,
    );
    const retry = lost.state.task?.attempts[1];
    if (lost.state.task === undefined || lost.state.task === null || retry === undefined)
      throw new Error("no retry after the loss");
    expect(resumeOf(lost.state.task, retry).resume).toMatchObject({ attempt: 1, agent: "vm-1", session_id: "sess-1" });
  });
});

describe("a retry that cannot resume", () => {
  it("says in the log why it starts fresh when the earlier attempt reported no session id", () => {
    const lost = drive([
      { type: "create-requested", command: create() },
      admitted,
      { type: "reservation-answered", attempt: 1, result: ok({}) },
      {
        type: "hello-received",
        hello: { type: "attempt.hello", protocol_version: 1, agent: "vm-1", attempt: 1, executor: "claude" },
        connectionId: "c1",
        linesStored: 0,
      },
      { type: "agent-lost", attempt: 1, agent: "vm-1", reason: "gone" },
    ]);
    expect(lost.effects).toContainEqual({
      kind: "log-note",
      text: "[mesh] attempt 2 starts fresh, not resuming a session: lost attempt 1 reported no session id",
      attempt: 2,
    });
  });
});

describe("the queue timeout in the task actor", () => {
  it("fails the waiting attempt as no_agent, and the task with it, settling its reservation", () => {
    const queued = drive([{ type: "create-requested", command: create() }, admitted]);
    const failed = drive(
      [{ type: "attempt-unserved", attempt: 1, message: "no online agent served tier deepseek" }],
      queued.state,
    );
    expect(failed.state.task).toMatchObject({
      status: "failed",
      error: { code: "no_agent" },
      attempts: [{ status: "failed", failure_class: "no_agent" }],
    });
    expect(failed.state.task?.waiting).toBeUndefined();
    expect(failed.effects).toContainEqual({
      kind: "settle-attempt",
      attempt: expect.objectContaining({ n: 1, failure_class: "no_agent" }),
    });
    // Twice (a notice delivered again): refused, nothing changes.
    expect(drive([{ type: "attempt-unserved", attempt: 1, message: "again" }], failed.state).reply).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
  });

  it("fails the attempt as disk_full when the registry refused it for its pinned agent's worktrees directory (docs/faults.md)", () => {
    const queued = drive([{ type: "create-requested", command: create() }, admitted]);
    const message = "agent vm-1 cannot make the attempt's worktree now: the worktrees directory /x is full";
    const failed = drive([{ type: "attempt-unserved", attempt: 1, message, failureClass: "disk_full" }], queued.state);
    expect(failed.state.task).toMatchObject({
      status: "failed",
      error: { code: "disk_full", message },
      attempts: [{ status: "failed", failure_class: "disk_full" }],
    });
    expect(failed.effects).toContainEqual({
      kind: "settle-attempt",
      attempt: expect.objectContaining({ n: 1, failure_class: "disk_full" }),
    });
  });
});

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
