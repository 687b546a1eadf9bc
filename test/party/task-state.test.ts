import { describe, expect, it } from "vitest";
import {
  cancelTask,
  finishAttempt,
  loseAttempt,
  lostAgents,
  newTask,
  startAttempt,
} from "../../party/task-room/task-state.ts";
import type { AttemptExit, TaskRecord } from "../../protocol/index.ts";

const created = (): TaskRecord =>
  newTask(
    {
      type: "task.create",
      task_id: "01J00000000000000000000000",
      instruction: "do it",
      tier: "sonnet",
      agent_selector: { by: "any" },
    },
    1000,
  );
const hello = { type: "attempt.hello" as const, protocol_version: 1, agent: "vm-1", attempt: 1, executor: "claude" };
const exit = (overrides: Partial<AttemptExit> = {}): AttemptExit => ({
  type: "attempt.exit",
  attempt: 1,
  line_count: 3,
  exit_code: 0,
  signal: null,
  duration_ms: 1500,
  ...overrides,
});
function running(): TaskRecord {
  const started = startAttempt(created(), hello, 2000);
  if (!started.ok) throw new Error(started.error.message);
  return started.value;
}

describe("task state machine", () => {
  it("creates a queued task with its first attempt dispatched to no agent yet", () => {
    const task = created();
    expect(task.status).toBe("queued");
    expect(task.attempts).toEqual([
      expect.objectContaining({ n: 1, tier: "sonnet", agent: null, status: "dispatched" }),
    ]);
  });

  it("runs when the agent says hello, and accepts the same agent again after a reconnect", () => {
    const task = running();
    expect(task.status).toBe("running");
    expect(task.attempts[0]).toMatchObject({ status: "running", agent: "vm-1", executor: "claude", started_at: 2000 });
    expect(startAttempt(task, hello, 3000)).toEqual({ ok: true, value: task });
  });

  it("refuses a hello for another attempt or from another agent", () => {
    expect(startAttempt(created(), { ...hello, attempt: 2 }, 0)).toMatchObject({
      ok: false,
      error: { code: "not_assigned" },
    });
    expect(startAttempt(running(), { ...hello, agent: "vm-2" }, 0)).toMatchObject({
      ok: false,
      error: { code: "not_assigned" },
    });
  });

  it("succeeds on exit 0 with the output and latency", () => {
    const done = finishAttempt(running(), "vm-1", exit({ output: "all good" }), 4000);
    expect(done).toMatchObject({ ok: true, value: { status: "succeeded", output: "all good", latency_ms: 1500 } });
    if (done.ok) expect(done.value.attempts[0]).toMatchObject({ status: "succeeded", exit_code: 0, ended_at: 4000 });
  });

  it("records what the executor reported: model, session, tokens, cost and changed files, summed on the task", () => {
    const done = finishAttempt(
      running(),
      "vm-1",
      exit({
        model: "claude-sonnet-4-5",
        session_id: "s-1",
        tokens: { input: 1000, output: 50 },
        cost_usd: 0.0123,
        changed_files: ["src/a.ts"],
      }),
      4000,
    );
    expect(done).toMatchObject({ ok: true, value: { tokens: { input: 1000, output: 50 }, cost_usd: 0.0123 } });
    if (done.ok)
      expect(done.value.attempts[0]).toMatchObject({
        model: "claude-sonnet-4-5",
        session_id: "s-1",
        changed_files: ["src/a.ts"],
      });
  });

  it("fails on a non-zero exit as a quality failure, naming the exit code", () => {
    const done = finishAttempt(running(), "vm-1", exit({ exit_code: 3 }), 4000);
    expect(done).toMatchObject({ ok: true, value: { status: "failed", error: { code: "unknown" } } });
    if (done.ok) {
      expect(done.value.attempts[0]).toMatchObject({ status: "failed", exit_code: 3, failure_class: "unknown" });
      expect(done.value.error?.message).toContain("code 3");
    }
  });

  it("keeps the agent's class for a timeout, and fails a signal death", () => {
    const timedOut = finishAttempt(
      running(),
      "vm-1",
      exit({ exit_code: null, signal: "SIGKILL", failure_class: "timeout" }),
      4000,
    );
    expect(timedOut).toMatchObject({ ok: true, value: { status: "failed", error: { code: "timeout" } } });
  });

  it("refuses an exit from an agent that does not hold the attempt, and a second exit", () => {
    expect(finishAttempt(running(), "vm-2", exit(), 0)).toMatchObject({ ok: false, error: { code: "not_assigned" } });
    const done = finishAttempt(running(), "vm-1", exit(), 0);
    if (!done.ok) throw new Error("expected ok");
    expect(finishAttempt(done.value, "vm-1", exit(), 0)).toMatchObject({ ok: false, error: { code: "conflict" } });
  });

  it("cancels a queued or running task once, and records a later exit without reviving it", () => {
    expect(cancelTask(created(), "no longer needed", 5)).toMatchObject({
      ok: true,
      value: { status: "cancelled", attempts: [{ status: "cancelled", failure_class: "cancelled" }] },
    });
    const cancelled = cancelTask(running(), "stop", 5);
    if (!cancelled.ok) throw new Error("expected ok");
    expect(cancelTask(cancelled.value, "again", 6)).toMatchObject({ ok: false, error: { code: "conflict" } });
    const late = finishAttempt(cancelled.value, "vm-1", exit({ exit_code: null, signal: "SIGTERM" }), 7);
    expect(late).toMatchObject({
      ok: true,
      value: { status: "cancelled", attempts: [{ status: "cancelled", signal: "SIGTERM" }] },
    });
  });

  it("refuses a hello for an attempt of a cancelled task", () => {
    const cancelled = cancelTask(created(), "stop", 5);
    if (!cancelled.ok) throw new Error("expected ok");
    expect(startAttempt(cancelled.value, hello, 6)).toMatchObject({ ok: false, error: { code: "not_assigned" } });
  });
});

describe("a lost agent", () => {
  it("fails its attempt as agent_lost and plans one retry at the same tier, avoiding that agent", () => {
    const lost = loseAttempt(running(), 1, "vm-1", "missed heartbeats", 5000);
    if (!lost.ok) throw new Error(lost.error.message);
    expect(lost.value.status).toBe("queued");
    expect(lost.value.attempts[0]).toMatchObject({ status: "failed", failure_class: "agent_lost", latency_ms: 3000 });
    expect(lost.retry).toMatchObject({ n: 2, tier: "sonnet", status: "dispatched", agent: null });
    expect(lostAgents(lost.value)).toEqual(["vm-1"]);
  });

  it("fails the task when the same tier was already retried once after a loss", () => {
    const first = loseAttempt(running(), 1, "vm-1", "gone", 5000);
    if (!first.ok) throw new Error(first.error.message);
    const second = startAttempt(first.value, { ...hello, agent: "vm-2", attempt: 2 }, 6000);
    if (!second.ok) throw new Error(second.error.message);
    const again = loseAttempt(second.value, 2, "vm-2", "gone too", 7000);
    expect(again).toMatchObject({ ok: true, value: { status: "failed", error: { code: "agent_lost" } } });
    expect(again.retry).toBeUndefined();
  });

  it("refuses to give up an attempt that already ended or belongs to another agent", () => {
    const done = finishAttempt(running(), "vm-1", exit(), 3000);
    if (!done.ok) throw new Error("expected ok");
    expect(loseAttempt(done.value, 1, "vm-1", "late", 4000)).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(loseAttempt(running(), 1, "vm-9", "wrong agent", 4000)).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
  });

  it("refuses the late exit of an attempt the mesh gave up", () => {
    const lost = loseAttempt(running(), 1, "vm-1", "gone", 5000);
    if (!lost.ok) throw new Error(lost.error.message);
    expect(finishAttempt(lost.value, "vm-1", exit(), 6000)).toMatchObject({ ok: false, error: { code: "conflict" } });
  });
});
