import { describe, expect, it } from "vitest";
import { decide, type TaskActorState } from "../../party/task-room/task-actor.ts";
import { admitted, clock, create, drive, exit, kinds, reserved, run } from "./task-actor-fixtures.ts";

describe("the task actor: cancel races", () => {
  const running = (): TaskActorState =>
    drive([{ type: "create-requested", command: create() }, admitted(), run(1)]).state;

  it("tells a connected agent to stop, and settles when its exit arrives after the cancel", () => {
    const cancelled = drive([{ type: "cancel-requested", held: [1] }], running());
    expect(cancelled.state.task?.status).toBe("cancelled");
    expect(kinds(cancelled.last.effects)).toEqual(["store-task", "index-task", "free-worktrees", "stop-attempt"]);
    const late = drive([exit(1, { exit_code: null, signal: "SIGTERM", cost_usd: 0.1 })], cancelled.state);
    expect(late.state.task?.status).toBe("cancelled");
    expect(late.last.effects.find((e) => e.kind === "settle-attempt")).toMatchObject({
      attempt: { n: 1, status: "cancelled", cost_usd: 0.1 },
    });
  });

  it("settles at once an attempt whose agent is not connected, and withdraws one still waiting", () => {
    expect(kinds(drive([{ type: "cancel-requested", held: [] }], running()).last.effects)).toEqual([
      "store-task",
      "index-task",
      "free-worktrees",
      "settle-attempt",
    ]);
    const queued = drive([{ type: "create-requested", command: create() }, admitted()]).state;
    expect(kinds(drive([{ type: "cancel-requested", held: [] }], queued).last.effects)).toEqual([
      "store-task",
      "index-task",
      "settle-attempt",
      "withdraw-requests",
    ]);
  });

  it("refuses a second cancel and a loss after the cancel", () => {
    const { state } = drive([{ type: "cancel-requested", held: [1] }], running());
    expect(decide(state, { type: "cancel-requested", held: [] }, clock()()).reply).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
    expect(
      decide(state, { type: "agent-lost", attempt: 1, agent: "agent-1", reason: "gone" }, clock()()).reply,
    ).toMatchObject({ ok: false, error: { code: "conflict" } });
  });
});

describe("the task actor: consensus and the human step", () => {
  /** Three sequential quality failures, then a consensus round of two. */
  function toConsensus(): TaskActorState {
    let state = drive([{ type: "create-requested", command: create({ tier: "codex" }) }, admitted()]).state;
    for (const n of [1, 2, 3])
      state = drive([run(n), exit(n, { exit_code: 1, failure_class: "test_fail" }), reserved(n + 1)], state).state;
    return state;
  }

  it("runs consensus after three sequential failures and picks the passing candidate", () => {
    const round = toConsensus();
    expect(round.task).toMatchObject({
      tier: "consensus",
      attempts: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4, role: "consensus" }, { n: 5, role: "consensus" }],
    });
    const { state } = drive(
      [run(4), run(5), exit(4, { exit_code: 1, failure_class: "test_fail" }), exit(5, { changed_files: ["a.ts"] })],
      round,
    );
    expect(state.task).toMatchObject({ status: "succeeded", winner: 5 });
  });

  it("waits for a person when no candidate passes, and a retry dispatches one more attempt", () => {
    const round = toConsensus();
    const { state } = drive(
      [
        run(4),
        run(5),
        exit(4, { exit_code: 1, failure_class: "test_fail" }),
        exit(5, { exit_code: 1, failure_class: "test_fail" }),
      ],
      round,
    );
    expect(state.task?.status).toBe("awaiting_human");
    const retried = decide(
      state,
      { type: "person-decided", command: { decision: "retry", guidance: "use the other API", executor: "opus" } },
      clock()(),
    );
    expect(retried.reply).toMatchObject({ ok: true, value: { status: "queued", tier: "opus" } });
    expect(retried.effects.at(-1)).toEqual({ kind: "reserve-attempt", attempt: 6, tier: "opus" });
    expect(
      decide(state, { type: "person-decided", command: { decision: "retry", executor: "nope" } }, clock()()).reply,
    ).toMatchObject({ ok: false, error: { code: "bad_request" } });
  });

  it("refuses a decision on a task that does not await one", () => {
    const { state } = drive([{ type: "create-requested", command: create() }, admitted()]);
    expect(decide(state, { type: "person-decided", command: { decision: "approve" } }, clock()()).reply).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
  });
});
