import { describe, expect, it } from "vitest";
import { decide, emptyTaskActor, exitMayClimb, type TaskActorState } from "../../party/task-room/task-actor.ts";
import { ok, refuse } from "../../protocol/index.ts";
import {
  ALL,
  admitted,
  clock,
  create,
  drive,
  exit,
  exitOf,
  hello,
  kinds,
  reserved,
  run,
  TASK_ID,
} from "./task-actor-fixtures.ts";

describe("the task actor: creation", () => {
  it("asks the budget, the directory and the registry at once, and creates nothing before they answer", () => {
    const step = decide(
      emptyTaskActor(),
      { type: "create-requested", command: create({ name: "fix-login" }) },
      clock()(),
    );
    expect(step.state.task).toBeNull();
    expect(step.reply).toBeUndefined();
    expect(step.effects).toEqual([
      {
        kind: "ask-admission",
        reserve: { attempt: 1, tier: "deepseek" },
        summary: expect.objectContaining({ name: "fix-login", status: "queued" }),
        selector: { by: "any" },
      },
    ]);
  });

  it("creates the task once admitted: stores it, dispatches attempt 1, and replies with it", () => {
    const { state, last } = drive([{ type: "create-requested", command: create() }, admitted()]);
    expect(state.task).toMatchObject({
      status: "queued",
      tier: "deepseek",
      attempts: [{ n: 1, status: "dispatched" }],
    });
    expect(kinds(last.effects)).toEqual(["store-task", "dispatch-attempt"]);
    expect(last.reply).toEqual({ ok: true, value: state.task });
  });

  it("starts above tiers nobody serves, records the skip, and tells the directory the new tier", () => {
    const { state, last } = drive([{ type: "create-requested", command: create() }, admitted(["codex", "opus"])]);
    expect(state.task?.tier).toBe("codex");
    expect(state.task?.skipped_tiers?.map((s) => s.tier)).toEqual(["deepseek", "gemini-flash", "gemini-pro"]);
    // The reservation follows the tier that runs (docs/budget.md): attempt 1 is reserved again, at codex, before its
    // dispatch.
    expect(last.effects.find((e) => e.kind === "reserve-attempt")).toEqual({
      kind: "reserve-attempt",
      attempt: 1,
      tier: "codex",
    });
    expect(kinds(last.effects)).toEqual(["store-task", "reserve-attempt", "index-task"]);
  });

  it("refuses a task the breaker refuses, and takes its listing back", () => {
    const { state, last } = drive([
      { type: "create-requested", command: create() },
      {
        type: "admission-answered",
        reservation: refuse("budget_halted", "the daily halt is reached"),
        claim: ok({}),
        served: ALL,
      },
    ]);
    expect(state).toEqual(emptyTaskActor());
    expect(last.reply).toEqual({ ok: false, error: { code: "budget_halted", message: "the daily halt is reached" } });
    expect(last.effects).toEqual([{ kind: "unlist-task", taskId: TASK_ID }]);
  });

  it("refuses a name in use, and gives the reservation back", () => {
    const { state, last } = drive([
      { type: "create-requested", command: create({ name: "x" }) },
      {
        type: "admission-answered",
        reservation: ok({}),
        claim: refuse("name_in_use", "name 'x' is held"),
        served: ALL,
      },
    ]);
    expect(state.task).toBeNull();
    expect(last.reply).toMatchObject({ ok: false, error: { code: "name_in_use" } });
    expect(last.effects).toEqual([{ kind: "release-reservation", attempt: 1 }]);
  });

  it("refuses a second create while the first waits for its admission, and after it exists", () => {
    const waiting = decide(emptyTaskActor(), { type: "create-requested", command: create() }, clock()());
    expect(decide(waiting.state, { type: "create-requested", command: create() }, clock()()).reply).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    const { state } = drive([{ type: "create-requested", command: create() }, admitted()]);
    expect(decide(state, { type: "create-requested", command: create() }, clock()()).reply).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
  });

  it("refuses a create whose id is not the room's", () => {
    expect(
      decide(emptyTaskActor(), { type: "create-requested", command: create({ task_id: "OTHER" }) }, clock()()).reply,
    ).toMatchObject({ ok: false, error: { code: "bad_request" } });
  });
});

describe("the task actor: attempts", () => {
  const queued = (): TaskActorState => drive([{ type: "create-requested", command: create() }, admitted()]).state;

  it("asks the budget before it accepts the agent of a waiting attempt, then binds its connection, stores the start and grants the cap", () => {
    const asked = drive([hello(1)], queued());
    expect(asked.state).toEqual(queued());
    expect(asked.last.effects).toEqual([
      {
        kind: "ask-start",
        hello: expect.objectContaining({ attempt: 1, agent: "agent-1", executor: "cli" }),
        tier: "deepseek",
        connectionId: "c-1",
      },
    ]);
    const { state, last } = drive([run(1)], queued());
    expect(state.task).toMatchObject({
      status: "running",
      attempts: [{ status: "running", agent: "agent-1", cap_usd: 1.5 }],
    });
    expect(last.effects).toEqual([
      { kind: "bind-attempt", attempt: 1, connectionId: "c-1", agent: "agent-1" },
      expect.objectContaining({
        kind: "store-task",
        note: expect.stringContaining("capped at $1.5000 (its share of the daily halt)"),
      }),
      expect.objectContaining({ kind: "index-task", summary: expect.objectContaining({ status: "running" }) }),
      {
        kind: "send-to-agent",
        connectionId: "c-1",
        message: { type: "attempt.accepted", attempt: 1, next_line: 0, cap: { usd: 1.5, of: "daily_halt" } },
      },
    ]);
  });

  it("refuses a hello for an attempt that is not waiting, and closes that connection", () => {
    const { last } = drive([hello(2)], queued());
    expect(last.effects).toEqual([
      {
        kind: "send-to-agent",
        connectionId: "c-2",
        message: expect.objectContaining({ type: "error", code: "not_assigned" }),
        close: "not_assigned",
      },
    ]);
  });

  it("succeeds on a clean exit: stores, closes the attempt, settles its cost, and dispatches nothing", () => {
    const { state, last } = drive([run(1), exit(1, { cost_usd: 0.25 })], queued());
    expect(state.task?.status).toBe("succeeded");
    expect(kinds(last.effects)).toEqual([
      "store-task",
      "index-task",
      "free-worktrees",
      "send-to-agent",
      "unbind-attempt",
      "settle-attempt",
    ]);
    expect(last.effects.find((e) => e.kind === "settle-attempt")).toMatchObject({ attempt: { n: 1, cost_usd: 0.25 } });
  });

  it("climbs the ladder on a quality failure in the same change, then dispatches once the budget reserved", () => {
    const climbed = drive([run(1), exit(1, { exit_code: 1, failure_class: "test_fail" })], queued());
    expect(climbed.state.task).toMatchObject({ status: "queued", tier: "gemini-flash" });
    expect(climbed.last.effects.at(-1)).toEqual({ kind: "reserve-attempt", attempt: 2, tier: "gemini-flash" });
    expect(decide(climbed.state, reserved(2), clock()()).effects).toEqual([{ kind: "dispatch-attempt", attempt: 2 }]);
  });

  it("fails the task with budget_halted when the next attempt's reservation is refused", () => {
    const climbed = drive([run(1), exit(1, { exit_code: 1, failure_class: "test_fail" })], queued());
    const { state } = drive(
      [{ type: "reservation-answered", attempt: 2, result: refuse("budget_halted", "halted") }],
      climbed.state,
    );
    expect(state.task).toMatchObject({
      status: "failed",
      error: { code: "budget_halted" },
      attempts: [{ n: 1 }, { n: 2, status: "cancelled" }],
    });
  });

  it("fails fast on an infrastructure failure", () => {
    const { state, last } = drive([run(1), exit(1, { exit_code: 1, failure_class: "auth_failure" })], queued());
    expect(state.task).toMatchObject({ status: "failed", error: { code: "auth_failure" } });
    expect(kinds(last.effects)).not.toContain("reserve-attempt");
  });

  it("retries a lost attempt once at the same tier, and fails on the second loss", () => {
    const lost = drive(
      [run(1), { type: "agent-lost", attempt: 1, agent: "agent-1", reason: "missed three heartbeats" }],
      queued(),
    );
    expect(lost.last.effects[0]).toEqual({
      kind: "unbind-attempt",
      attempt: 1,
      close: "the mesh gave this attempt up",
    });
    expect(lost.last.effects.at(-1)).toEqual({ kind: "reserve-attempt", attempt: 2, tier: "deepseek" });
    const again = drive(
      [run(2), { type: "agent-lost", attempt: 2, agent: "agent-2", reason: "missed three heartbeats" }],
      lost.state,
    );
    expect(again.state.task).toMatchObject({ status: "failed", error: { code: "agent_lost" } });
  });

  it("asks again for waiting attempts after a restart (resume)", () => {
    expect(decide(queued(), { type: "room-resumed" }, clock()()).effects).toEqual([
      { kind: "reserve-attempt", attempt: 1, tier: "deepseek" },
    ]);
  });

  it("gives back a reservation that arrives for an attempt no longer waiting", () => {
    const { state } = drive([run(1), exit(1)], queued());
    expect(decide(state, reserved(1), clock()()).effects).toEqual([{ kind: "release-reservation", attempt: 1 }]);
  });

  it("waits for the ladder only after exits that may climb it", () => {
    const task = queued().task;
    if (task === null) throw new Error("no task");
    expect(exitMayClimb(task, exitOf(1))).toBe(false);
    expect(exitMayClimb(task, exitOf(1, { exit_code: 2 }))).toBe(true);
  });
});
