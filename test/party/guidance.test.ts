// A person's guidance stays with the task until a model has seen it, and consensus means two
// candidates or more (docs/resume.md): the task actor and the ladder, on a fake clock.
import { describe, expect, it } from "vitest";
import { attemptPrompt } from "../../party/task-room/attempt-context.ts";
import {
  type EscalationConfig,
  escalationConfigFrom,
  planNext,
  resolveTask,
} from "../../party/task-room/escalation.ts";
import { modelSawPrompt, pendingGuidance } from "../../party/task-room/guidance.ts";
import {
  decide,
  emptyTaskActor,
  type TaskActorContext,
  type TaskActorState,
  type TaskEvent,
} from "../../party/task-room/task-actor.ts";
import { finishAttempt, newTask, startAttempt } from "../../party/task-room/task-state.ts";
import { type AttemptExit, type AttemptHello, type ExecutorTier, ok, type TaskRecord } from "../../protocol/index.ts";

const TASK_ID = "01J00000000000000000000000";
const GUIDANCE = "use the v2 API, not v1";
const config: EscalationConfig = { consensusTiers: ["opus", "sonnet"], consensusSize: 2 };

function clock(start = 1000): () => TaskActorContext {
  let now = start;
  return () => ({ now: (now += 10), taskId: TASK_ID, config });
}

function drive(
  events: TaskEvent[],
  state: TaskActorState,
  ctx = clock(),
): { state: TaskActorState; last: ReturnType<typeof decide> } {
  let last = decide(state, events[0] ?? { type: "room-resumed" }, ctx());
  for (const event of events.slice(1)) last = decide(last.state, event, ctx());
  return { state: last.state, last };
}

const helloOf = (attempt: number, resumedFrom?: number): AttemptHello => ({
  type: "attempt.hello",
  protocol_version: 1,
  agent: "vm-1",
  attempt,
  executor: "claude",
  ...(resumedFrom === undefined ? {} : { resumed_from: resumedFrom }),
});
/** The agent's hello, once the budget let the attempt start. */
const started = (attempt: number, resumedFrom?: number): TaskEvent => ({
  type: "start-answered",
  hello: helloOf(attempt, resumedFrom),
  connectionId: `c-${attempt}`,
  grant: ok({ cap_usd: 1.5, estimate_usd: 0.45 }),
  linesStored: 0,
});
const ended = (attempt: number, fields: Partial<AttemptExit>, served: ExecutorTier[]): TaskEvent => ({
  type: "attempt-exited",
  exit: { type: "attempt.exit", attempt, line_count: 0, exit_code: 1, signal: null, duration_ms: 5, ...fields },
  agent: "vm-1",
  connectionId: `c-${attempt}`,
  missingLines: 0,
  served,
});
const reserved = (attempt: number): TaskEvent => ({ type: "reservation-answered", attempt, result: ok({}) });
/** What a model's failed run reports: tokens and a cost. */
const modelFailed: Partial<AttemptExit> = {
  failure_class: "test_fail",
  tokens: { input: 900, output: 40 },
  cost_usd: 0.01,
  session_id: "s-1",
};
/**
 * What claude's refused `--resume` reports (exit 1, "No conversation found", nothing spent), classed as the mesh
 * classed it before.
 */
const resumeRefused: Partial<AttemptExit> = { failure_class: "unknown", tokens: { input: 0, output: 0 }, cost_usd: 0 };

/** One agent serving opus only: attempt 1 fails; consensus has one served tier, so a person decides. */
function waitingForPerson(): TaskActorState {
  const create: TaskEvent = {
    type: "create-requested",
    command: {
      type: "task.create",
      task_id: TASK_ID,
      instruction: "fix the bug",
      tier: "opus",
      agent_selector: { by: "any" },
    },
  };
  const admitted: TaskEvent = { type: "admission-answered", reservation: ok({}), claim: ok({}), served: ["opus"] };
  return drive([create, admitted, started(1), ended(1, modelFailed, ["opus"])], emptyTaskActor()).state;
}

describe("consensus needs two candidates", () => {
  it("sends the task to a person instead of a one-candidate consensus at the same tier", () => {
    const state = waitingForPerson();
    expect(state.task?.status).toBe("awaiting_human");
    expect(state.task?.attempts).toHaveLength(1);
    expect(state.task?.human?.reason).toContain("consensus needs 2 candidates");
    expect(state.task?.human?.reason).toContain("only opus is served");
  });

  it("never fills the cap's last slot with a one-candidate round", () => {
    // opus fails, a consensus round of two fails, a person's retry fails: four attempts, one slot left under five.
    const all = new Set<ExecutorTier>(["opus", "sonnet"]);
    const run = (t: TaskRecord, n: number): TaskRecord => {
      const s = startAttempt(t, helloOf(n), n * 10);
      if (!s.ok) throw new Error(s.error.message);
      const f = finishAttempt(
        s.value,
        "vm-1",
        { type: "attempt.exit", attempt: n, line_count: 0, exit_code: 1, signal: null, duration_ms: 5, ...modelFailed },
        n * 10 + 5,
      );
      if (!f.ok) throw new Error(f.error.message);
      return f.value;
    };
    const round = planNext(
      run(
        newTask(
          { type: "task.create", task_id: TASK_ID, instruction: "fix", tier: "opus", agent_selector: { by: "any" } },
          0,
        ),
        1,
      ),
      all,
      config,
      20,
    );
    if (round.kind !== "dispatch") throw new Error("expected consensus");
    const human = planNext(run(run(round.task, 2), 3), all, config, 40);
    if (human.kind !== "settled") throw new Error("expected a person");
    const retry = resolveTask(human.task, { decision: "retry", guidance: GUIDANCE }, "opus", 50);
    if (!retry.ok || retry.value.kind !== "dispatch") throw new Error("expected a retry");
    const plan = planNext(run(retry.value.task, 4), all, config, 60);
    expect(plan).toMatchObject({
      kind: "settled",
      task: {
        status: "awaiting_human",
        human: { reason: "the cap of 5 attempts leaves room for 1, and consensus needs 2 candidates" },
      },
    });
    if (plan.kind === "settled") expect(plan.task.attempts).toHaveLength(4);
    // A person may go past the cap; the ladder then makes no attempt of its own.
    const past = resolveTask(plan.kind === "settled" ? plan.task : human.task, { decision: "retry" }, null, 70);
    if (!past.ok || past.value.kind !== "dispatch") throw new Error("expected a retry");
    const after = planNext(run(past.value.task, 5), all, config, 80);
    expect(after).toMatchObject({
      kind: "settled",
      task: { status: "awaiting_human", human: { reason: "the cap of 5 attempts is reached" } },
    });
  });

  it("reads a consensus size under two as two", () => {
    expect(escalationConfigFrom({ MESH_CONSENSUS_SIZE: "1" }).consensusSize).toBe(2);
    expect(escalationConfigFrom({ MESH_CONSENSUS_SIZE: "3" }).consensusSize).toBe(3);
  });
});

describe("a person's guidance stays until a model has seen it", () => {
  it("is kept after a retry whose resume the CLI refused, and goes into the next retry without new words", () => {
    const waiting = waitingForPerson();
    const retried = drive(
      [{ type: "person-decided", command: { decision: "retry", guidance: GUIDANCE } }],
      waiting,
    ).state;
    expect(retried.task?.attempts[1]).toMatchObject({ n: 2, role: "retry", guidance: GUIDANCE });
    // Attempt 2 resumes attempt 1's session; the CLI refuses it and nothing runs.
    const failed = drive([reserved(2), started(2, 1), ended(2, resumeRefused, ["opus"])], retried).state;
    expect(failed.task?.status).toBe("awaiting_human");
    expect(failed.task?.attempts.map((a) => a.role)).toEqual(["sequential", "retry"]);
    expect(pendingGuidance(failed.task as TaskRecord)).toBe(GUIDANCE);
    const again = drive([{ type: "person-decided", command: { decision: "retry" } }], failed);
    expect(again.state.task?.attempts[2]).toMatchObject({ n: 3, role: "retry", guidance: GUIDANCE });
    expect(again.last.effects.find((e) => e.kind === "store-task")).toMatchObject({
      note: expect.stringContaining("the earlier guidance no model has seen yet"),
    });
    const task = again.state.task as TaskRecord;
    expect(attemptPrompt(task, task.attempts[2] as never, [])).toContain(`Guidance from a person: ${GUIDANCE}`);
  });

  it("is dropped once a model ran with it and its attempt ended", () => {
    const waiting = waitingForPerson();
    const failed = drive(
      [
        { type: "person-decided", command: { decision: "retry", guidance: GUIDANCE } },
        reserved(2),
        started(2),
        ended(2, modelFailed, ["opus"]),
      ],
      waiting,
    ).state;
    expect(failed.task?.status).toBe("awaiting_human");
    expect(pendingGuidance(failed.task as TaskRecord)).toBeUndefined();
    const again = drive([{ type: "person-decided", command: { decision: "retry" } }], failed).state;
    expect(again.task?.attempts[2]?.guidance).toBeUndefined();
  });

  it("counts a refused resume the agent ran again fresh as seen, and records that it did not resume", () => {
    const waiting = waitingForPerson();
    const { state, last } = drive(
      [
        { type: "person-decided", command: { decision: "retry", guidance: GUIDANCE } },
        reserved(2),
        started(2, 1),
        ended(2, { ...modelFailed, resume_refused: true }, ["opus"]),
      ],
      waiting,
    );
    const attempt = state.task?.attempts[1];
    expect(attempt).toMatchObject({ role: "retry", resume_refused: 1, failure_class: "test_fail" });
    expect(attempt?.resumed_from).toBeUndefined();
    expect(last.effects.find((e) => e.kind === "store-task")).toMatchObject({
      note: expect.stringContaining("the CLI refused to resume attempt 1's session, so it ran fresh"),
    });
    expect(pendingGuidance(state.task as TaskRecord)).toBeUndefined();
  });

  it("goes with the retry of a lost attempt", () => {
    const waiting = waitingForPerson();
    const running = drive(
      [{ type: "person-decided", command: { decision: "retry", guidance: GUIDANCE } }, reserved(2), started(2)],
      waiting,
    ).state;
    const lost = drive(
      [{ type: "agent-lost", attempt: 2, agent: "vm-1", reason: "the agent went away" }],
      running,
    ).state;
    expect(lost.task?.attempts[2]).toMatchObject({ n: 3, role: "retry", guidance: GUIDANCE, status: "dispatched" });
    expect(pendingGuidance(lost.task as TaskRecord)).toBe(GUIDANCE);
  });

  it("goes up the ladder and into consensus candidates while unseen", () => {
    // Attempt 1 (codex) failed; nobody serves a second consensus tier, so a person retried at deepseek.
    const served = new Set<ExecutorTier>(["deepseek", "codex", "opus", "sonnet"]);
    let task = newTask(
      { type: "task.create", task_id: TASK_ID, instruction: "fix", tier: "codex", agent_selector: { by: "any" } },
      0,
    );
    const run = (t: TaskRecord, n: number, fields: Partial<AttemptExit>, resumedFrom?: number): TaskRecord => {
      const s = startAttempt(t, helloOf(n, resumedFrom), n * 10);
      if (!s.ok) throw new Error(s.error.message);
      const f = finishAttempt(
        s.value,
        "vm-1",
        { type: "attempt.exit", attempt: n, line_count: 0, exit_code: 1, signal: null, duration_ms: 5, ...fields },
        n * 10 + 5,
      );
      if (!f.ok) throw new Error(f.error.message);
      return f.value;
    };
    const human = planNext(run(task, 1, modelFailed), new Set(["codex"]), config, 20);
    if (human.kind !== "settled") throw new Error("expected a person");
    const retry = resolveTask(human.task, { decision: "retry", guidance: GUIDANCE }, "deepseek", 30);
    if (!retry.ok || retry.value.kind !== "dispatch") throw new Error("expected a retry");
    task = run(retry.value.task, 2, resumeRefused, 1);
    const climbed = planNext(task, served, config, 40);
    if (climbed.kind !== "dispatch") throw new Error("expected the ladder to climb");
    expect(climbed.note).toContain("carrying a person's guidance");
    expect(climbed.task.attempts[2]).toMatchObject({ n: 3, tier: "codex", role: "sequential", guidance: GUIDANCE });
    // Attempt 3 ends without its model running either (a refused resume, nothing spent): the round after it carries the
    // guidance.
    task = run(climbed.task, 3, { failure_class: "unknown" }, 2);
    const round = planNext(task, served, config, 50);
    if (round.kind !== "dispatch") throw new Error("expected consensus");
    expect(round.task.attempts.slice(3).map((a) => [a.tier, a.role, a.guidance])).toEqual([
      ["opus", "consensus", GUIDANCE],
      ["sonnet", "consensus", GUIDANCE],
    ]);
  });

  it("tells a model's run from one that never reached a model", () => {
    const base = {
      n: 1,
      tier: "opus" as const,
      executor: "claude",
      agent: "vm-1",
      tokens: { input: 0, output: 0 },
      cost_usd: 0,
      latency_ms: 1,
      dispatched_at: 0,
    };
    expect(modelSawPrompt({ ...base, status: "failed", failure_class: "test_fail", started_at: 1 })).toBe(true);
    expect(
      modelSawPrompt({ ...base, status: "failed", failure_class: "unknown", started_at: 1, resumed_from: 1 }),
    ).toBe(false);
    expect(modelSawPrompt({ ...base, status: "failed", failure_class: "auth_failure", started_at: 1 })).toBe(false);
    expect(modelSawPrompt({ ...base, status: "failed", failure_class: "no_agent" })).toBe(false);
    expect(modelSawPrompt({ ...base, status: "succeeded", started_at: 1 })).toBe(true);
  });
});
