import { describe, expect, it } from "vitest";
import {
  exitMayClimb,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "../../party/task-room/task-actor.ts";
import type { AttemptExit } from "../../protocol/index.ts";
import { admitted, create, drive, exit, run } from "./task-actor-fixtures.ts";

// Decisions the task room used to take itself, now the actor's (docs/wire-protocol.md): how a
// stopping agent's `agent_lost` exit is routed and which status closes it, the `next_line` an
// accepted agent resumes from, and the derived `waiting` of the task the actor keeps, stores and replies with.

/** The budget let attempt `attempt` start; its agent had `linesStored` lines in the room already. */
const started = (attempt: number, linesStored = 0): TaskEvent => {
  const event = run(attempt);
  return event.type === "start-answered" ? { ...event, linesStored } : event;
};
/** Attempt `attempt`'s agent is stopping: its exit says `agent_lost`. */
const stopping = (attempt: number, overrides: Partial<AttemptExit> = {}): TaskEvent =>
  exit(
    attempt,
    {
      exit_code: null,
      signal: "SIGTERM",
      failure_class: "agent_lost",
      error: { code: "internal", message: "agent vm-1 is stopping" },
      ...overrides,
    },
    [],
  );

const queued = (): TaskActorState => drive([{ type: "create-requested", command: create() }, admitted()]).state;
const closedWith = (effects: readonly TaskEffect[]) =>
  effects.find((e) => e.kind === "send-to-agent" && e.message.type === "attempt.closed");

describe("the task actor: an agent that stops gives its attempt up", () => {
  it("takes the loss with its one retry at the same tier, and closes the attempt as failed", () => {
    const { state, last } = drive([started(1), stopping(1)], queued());
    expect(state.task?.attempts).toMatchObject([
      { n: 1, status: "failed", failure_class: "agent_lost" },
      { n: 2, status: "dispatched", tier: "deepseek" },
    ]);
    expect(last.effects[0]).toEqual({ kind: "unbind-attempt", attempt: 1, close: "the mesh gave this attempt up" });
    expect(last.effects).toContainEqual({ kind: "reserve-attempt", attempt: 2, tier: "deepseek" });
    expect(last.effects.find((e) => e.kind === "store-task")).toMatchObject({
      note: "attempt 1 lost: agent vm-1 is stopping; retrying at tier deepseek on another agent",
    });
    expect(closedWith(last.effects)).toEqual({
      kind: "send-to-agent",
      connectionId: "c-1",
      message: { type: "attempt.closed", attempt: 1, status: "failed" },
    });
    // An exit is not a request: nothing waits for a reply.
    expect(last.reply).toBeUndefined();
  });

  it("names the agent when the exit carries no message of its own", () => {
    const { last } = drive([started(1), stopping(1, { error: undefined })], queued());
    expect(last.effects.find((e) => e.kind === "store-task")).toMatchObject({
      note: expect.stringContaining("attempt 1 lost: agent agent-1 stopped"),
    });
  });

  it("closes an attempt whose loss is refused with the status the task gives it, changing nothing", () => {
    const cancelled = drive([started(1), { type: "cancel-requested", held: [1] }], queued()).state;
    const { state, last } = drive([stopping(1)], cancelled);
    expect(state).toEqual(cancelled);
    expect(last.effects).toEqual([
      {
        kind: "send-to-agent",
        connectionId: "c-1",
        message: { type: "attempt.closed", attempt: 1, status: "cancelled" },
      },
    ]);
  });

  it("does not ask which tiers are served before a loss: it never climbs the ladder", () => {
    const task = queued().task;
    if (task === null) throw new Error("no task");
    expect(
      exitMayClimb(task, {
        type: "attempt.exit",
        attempt: 1,
        line_count: 0,
        exit_code: null,
        signal: null,
        duration_ms: 5,
        failure_class: "agent_lost",
      }),
    ).toBe(false);
    expect(
      exitMayClimb(task, {
        type: "attempt.exit",
        attempt: 1,
        line_count: 0,
        exit_code: 1,
        signal: null,
        duration_ms: 5,
        failure_class: "test_fail",
      }),
    ).toBe(true);
  });
});

describe("the task actor: where an accepted agent resumes its output", () => {
  it("tells a starting agent the number of lines the room already stored", () => {
    const { last } = drive([started(1, 12)], queued());
    expect(last.effects).toContainEqual(
      expect.objectContaining({
        kind: "send-to-agent",
        message: expect.objectContaining({ type: "attempt.accepted", attempt: 1, next_line: 12 }),
      }),
    );
  });

  it("tells a reconnecting agent the lines stored so far, never a placeholder", () => {
    const running = drive([started(1)], queued()).state;
    const { last } = drive(
      [
        {
          type: "hello-received",
          hello: { type: "attempt.hello", protocol_version: 1, agent: "agent-1", attempt: 1, executor: "cli" },
          connectionId: "c-9",
          linesStored: 40,
        },
      ],
      running,
    );
    expect(last.effects).toEqual([
      { kind: "bind-attempt", attempt: 1, connectionId: "c-9", agent: "agent-1" },
      {
        kind: "send-to-agent",
        connectionId: "c-9",
        message: { type: "attempt.accepted", attempt: 1, next_line: 40, cap: { usd: 1.5, of: "daily_halt" } },
      },
    ]);
  });
});

describe("the task actor: the waiting it keeps is the waiting it stores", () => {
  const storedTask = (effects: readonly TaskEffect[]) => effects.find((e) => e.kind === "store-task");

  it("a new task waits for an agent in its state, its stored copy and its reply alike", () => {
    const { state, last } = drive([{ type: "create-requested", command: create() }, admitted()]);
    expect(state.task?.waiting).toEqual({
      for: "agent",
      tier: "deepseek",
      since: state.task?.attempts[0]?.dispatched_at,
    });
    expect(storedTask(last.effects)).toMatchObject({ task: state.task });
    expect(last.reply).toEqual({ ok: true, value: state.task });
  });

  it("a running task waits for nothing, and a retry after a loss waits for an agent again", () => {
    const running = drive([started(1)], queued());
    expect(running.state.task?.waiting).toBeUndefined();
    expect(storedTask(running.last.effects)).toMatchObject({ task: running.state.task });
    const lost = drive(
      [{ type: "agent-lost", attempt: 1, agent: "agent-1", reason: "missed three heartbeats" }],
      running.state,
    );
    expect(lost.state.task?.waiting).toMatchObject({ for: "agent", tier: "deepseek" });
    expect(storedTask(lost.last.effects)).toMatchObject({ task: lost.state.task });
    expect(lost.last.reply).toEqual({ ok: true, value: lost.state.task });
  });

  it("a task after others waits for them, stored as kept", () => {
    const { state, last } = drive([
      { type: "create-requested", command: create({ after: ["01J00000000000000000000001"] }) },
      admitted(),
    ]);
    expect(state.task?.waiting).toMatchObject({ for: "tasks", ids: ["01J00000000000000000000001"] });
    expect(storedTask(last.effects)).toMatchObject({ task: state.task });
  });
});
