import { describe, expect, it } from "vitest";
import {
  decide,
  emptyTaskActor,
  type TaskActorContext,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "../../party/task-room/task-actor.ts";
import { type AttemptHello, ok, refuse, type TaskCreate } from "../../protocol/index.ts";

// The task actor's side of the budget (docs/budget.md): the start gate, the breaker's halt, and caps.

const TASK_ID = "01J00000000000000000000000";
let now = 1000;
const ctx = (): TaskActorContext => ({
  now: (now += 10),
  taskId: TASK_ID,
  config: { consensusTiers: ["opus", "sonnet"], consensusSize: 2 },
});
const create = (overrides: Partial<TaskCreate> = {}): TaskCreate => ({
  type: "task.create",
  task_id: TASK_ID,
  instruction: "fix the bug",
  tier: "sonnet",
  agent_selector: { by: "any" },
  ...overrides,
});
const helloOf = (attempt = 1, agent = "vm-1"): AttemptHello => ({
  type: "attempt.hello",
  protocol_version: 1,
  agent,
  attempt,
  executor: "claude",
});
const kinds = (effects: readonly TaskEffect[]): string[] => effects.map((e) => e.kind);

function drive(events: TaskEvent[], state: TaskActorState): { state: TaskActorState; last: ReturnType<typeof decide> } {
  let last = decide(state, events[0] ?? { type: "room-resumed" }, ctx());
  for (const event of events.slice(1)) last = decide(last.state, event, ctx());
  return { state: last.state, last };
}

const queued = (overrides: Partial<TaskCreate> = {}): TaskActorState =>
  drive(
    [
      { type: "create-requested", command: create(overrides) },
      { type: "admission-answered", reservation: ok({}), claim: ok({}), served: ["sonnet", "opus"] },
    ],
    emptyTaskActor(),
  ).state;
const granted = (capUsd: number, attempt = 1): TaskEvent => ({
  type: "start-answered",
  hello: helloOf(attempt),
  connectionId: "c-1",
  grant: ok({ cap_usd: capUsd, estimate_usd: 0.45 }),
  linesStored: 0,
});
const HALT_MESSAGE =
  "budget halted: today's spend $2.0000 reached the daily halt of $2.0000; the attempt was not started. It clears at 00:00 UTC or when MESH_DAILY_HALT_USD is raised; running attempts go on.";

describe("the start gate in the task actor", () => {
  it("fails a task whose start the budget refused: the agent is told before it spawns anything, and the reservation goes back", () => {
    const { state, last } = drive(
      [
        {
          type: "start-answered",
          hello: helloOf(),
          connectionId: "c-1",
          grant: refuse("budget_halted", HALT_MESSAGE),
          linesStored: 0,
        },
      ],
      queued(),
    );
    expect(state.task).toMatchObject({
      status: "failed",
      error: { code: "budget_halted", message: HALT_MESSAGE },
      attempts: [{ n: 1, status: "cancelled" }],
    });
    expect(state.task?.attempts[0]?.started_at).toBeUndefined();
    expect(last.effects.filter((e) => e.kind === "send-to-agent")).toEqual([
      {
        kind: "send-to-agent",
        connectionId: "c-1",
        message: { type: "error", code: "budget_halted", message: HALT_MESSAGE, in_reply_to: "attempt.hello" },
      },
      {
        kind: "send-to-agent",
        connectionId: "c-1",
        message: { type: "attempt.closed", attempt: 1, status: "cancelled" },
      },
    ]);
    expect(last.effects).toContainEqual({ kind: "release-reservation", attempt: 1 });
    expect(kinds(last.effects)).not.toContain("bind-attempt");
  });

  it("does not fail the task when the budget could not be asked: the agent's next hello asks again", () => {
    const before = queued();
    const { state, last } = drive(
      [
        {
          type: "start-answered",
          hello: helloOf(),
          connectionId: "c-1",
          grant: refuse("internal", "the budget room could not be reached"),
          linesStored: 0,
        },
      ],
      before,
    );
    expect(state).toEqual(before);
    expect(last.effects).toEqual([
      {
        kind: "send-to-agent",
        connectionId: "c-1",
        message: expect.objectContaining({ type: "error", code: "internal" }),
      },
    ]);
  });

  it("caps an attempt at what the task's max_cost_usd leaves when that is lower than the halt's share, and says which", () => {
    const { state, last } = drive([granted(1.2)], queued({ max_cost_usd: 0.0168 }));
    expect(state.task?.attempts[0]?.cap_usd).toBe(0.0168);
    expect(last.effects).toContainEqual({
      kind: "send-to-agent",
      connectionId: "c-1",
      message: { type: "attempt.accepted", attempt: 1, next_line: 0, cap: { usd: 0.0168, of: "task" } },
    });
    expect(last.effects).toContainEqual(
      expect.objectContaining({
        kind: "store-task",
        note: expect.stringContaining("capped at $0.0168 (what the task's max_cost_usd leaves)"),
      }),
    );
  });

  it("accepts a reconnecting agent with the cap it started with, without asking the budget again", () => {
    const running = drive([granted(0.65)], queued()).state;
    const { state, last } = drive(
      [{ type: "hello-received", hello: helloOf(), connectionId: "c-2", linesStored: 7 }],
      running,
    );
    expect(state).toEqual(running);
    expect(last.effects).toEqual([
      { kind: "bind-attempt", attempt: 1, connectionId: "c-2", agent: "vm-1" },
      {
        kind: "send-to-agent",
        connectionId: "c-2",
        message: { type: "attempt.accepted", attempt: 1, next_line: 7, cap: { usd: 0.65, of: "daily_halt" } },
      },
    ]);
  });

  it("gives back a grant that comes after the task was cancelled, and tells the agent it is not its attempt", () => {
    const cancelled = drive([{ type: "cancel-requested", held: [] }], queued()).state;
    const { last } = drive([granted(1)], cancelled);
    expect(last.effects).toEqual([
      { kind: "release-reservation", attempt: 1 },
      {
        kind: "send-to-agent",
        connectionId: "c-1",
        message: expect.objectContaining({ type: "error", code: "not_assigned" }),
        close: "not_assigned",
      },
    ]);
  });
});

describe("the breaker's halt in the task actor", () => {
  it("fails an attempt still waiting for an agent, gives its reservation back and withdraws its dispatch", () => {
    const { state, last } = drive([{ type: "budget-halted", attempt: 1, message: HALT_MESSAGE }], queued());
    expect(state.task).toMatchObject({
      status: "failed",
      error: { code: "budget_halted", message: HALT_MESSAGE },
      attempts: [{ status: "cancelled" }],
    });
    expect(kinds(last.effects)).toEqual(["store-task", "index-task", "release-reservation", "withdraw-requests"]);
    expect(last.reply).toMatchObject({ ok: true });
  });

  it("leaves an attempt that already started alone", () => {
    const running = drive([granted(1)], queued()).state;
    const { state, last } = drive([{ type: "budget-halted", attempt: 1, message: HALT_MESSAGE }], running);
    expect(state).toEqual(running);
    expect(last.reply).toMatchObject({ ok: false, error: { code: "conflict" } });
  });
});

describe("a task's max_cost_usd against real costs", () => {
  it("keeps a succeeded attempt past the cap succeeded, marked over_cap, and stops a failed one as budget_exceeded without climbing", () => {
    const kept = drive(
      [
        granted(1),
        {
          type: "attempt-exited",
          exit: {
            type: "attempt.exit",
            attempt: 1,
            line_count: 0,
            exit_code: 0,
            signal: null,
            duration_ms: 5,
            cost_usd: 0.32,
            over_cap: true,
          },
          agent: "vm-1",
          connectionId: "c-1",
          missingLines: 0,
          served: ["sonnet", "opus"],
        },
      ],
      queued({ max_cost_usd: 0.03 }),
    );
    expect(kept.state.task).toMatchObject({
      status: "succeeded",
      attempts: [{ status: "succeeded", over_cap: true, cost_usd: 0.32 }],
    });
    const stopped = drive(
      [
        granted(1),
        {
          type: "attempt-exited",
          exit: {
            type: "attempt.exit",
            attempt: 1,
            line_count: 0,
            exit_code: 1,
            signal: null,
            duration_ms: 5,
            failure_class: "test_fail",
            cost_usd: 0.32,
          },
          agent: "vm-1",
          connectionId: "c-1",
          missingLines: 0,
          served: ["sonnet", "opus"],
        },
      ],
      queued({ max_cost_usd: 0.03 }),
    );
    expect(stopped.state.task).toMatchObject({ status: "failed", error: { code: "budget_exceeded" } });
    expect(stopped.state.task?.error?.message).toContain("max_cost_usd of $0.0300");
    expect(stopped.state.task?.attempts).toHaveLength(1);
    expect(kinds(stopped.last.effects)).not.toContain("reserve-attempt");
  });
});
