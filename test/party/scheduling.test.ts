// The pure steps of scheduling in the task actor (docs/scheduling.md): task graphs, CLI sessions, resuming, and the
// queue timeout. The rules outside the actor are tested in scheduling-rules.test.ts.
import { describe, expect, it } from "vitest";
import {
  decide,
  emptyTaskActor,
  type TaskActorContext,
  type TaskActorState,
  type TaskEvent,
} from "../../party/task-room/task-actor.ts";
import { resumeOf } from "../../party/task-room/task-schedule.ts";
import { ok, type TaskCreate } from "../../protocol/index.ts";

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
