import { describe, expect, it } from "vitest";
import { attemptPrompt } from "../../party/task-room/attempt-context.ts";
import { judgeConsensus } from "../../party/task-room/consensus-judge.ts";
import {
  type EscalationConfig,
  nextServedTier,
  planNext,
  resolveTask,
  startingTier,
} from "../../party/task-room/escalation.ts";
import { finishAttempt, newTask, startAttempt } from "../../party/task-room/task-state.ts";
import type { Attempt, AttemptExit, ExecutorTier, FailureClass, TaskRecord } from "../../protocol/index.ts";

const ALL: ReadonlySet<ExecutorTier> = new Set(["deepseek", "gemini-flash", "gemini-pro", "codex", "sonnet", "opus"]);
const config: EscalationConfig = { consensusTiers: ["opus", "sonnet", "codex"], consensusSize: 2 };

const created = (tier: ExecutorTier = "deepseek"): TaskRecord =>
  newTask(
    {
      type: "task.create",
      task_id: "01J00000000000000000000000",
      instruction: "fix the bug",
      tier,
      agent_selector: { by: "any" },
    },
    0,
  );

/** Runs attempt `n` on an agent and ends it with `failure` (or success). */
function runAndEnd(
  task: TaskRecord,
  n: number,
  failure: FailureClass | null,
  extra: Partial<AttemptExit> = {},
): TaskRecord {
  const started = startAttempt(
    task,
    { type: "attempt.hello", protocol_version: 1, agent: `agent-${n}`, attempt: n, executor: "cli" },
    n * 10,
  );
  if (!started.ok) throw new Error(started.error.message);
  const exit: AttemptExit = {
    type: "attempt.exit",
    attempt: n,
    line_count: 0,
    exit_code: failure === null ? 0 : 1,
    signal: null,
    duration_ms: 5,
    ...(failure === null ? {} : { failure_class: failure }),
    ...extra,
  };
  const ended = finishAttempt(started.value, `agent-${n}`, exit, n * 10 + 5);
  if (!ended.ok) throw new Error(ended.error.message);
  return ended.value;
}

function dispatchPlan(task: TaskRecord, served = ALL): { task: TaskRecord; attempts: number[] } {
  const plan = planNext(task, served, config, 100);
  if (plan.kind !== "dispatch") throw new Error(`expected dispatch, got ${plan.kind}`);
  return plan;
}

describe("the escalation ladder", () => {
  it("climbs one tier after a quality failure and records the step", () => {
    const plan = dispatchPlan(runAndEnd(created(), 1, "test_fail"));
    expect(plan.task).toMatchObject({ status: "queued", tier: "gemini-flash" });
    expect(plan.task.attempts[1]).toMatchObject({
      n: 2,
      tier: "gemini-flash",
      role: "sequential",
      status: "dispatched",
    });
    expect(plan.task.error).toBeUndefined();
  });

  it("skips tiers no connected agent serves, and records the skips", () => {
    const plan = dispatchPlan(runAndEnd(created(), 1, "wrong_file"), new Set(["deepseek", "codex", "opus"]));
    expect(plan.task.tier).toBe("codex");
    expect(plan.task.skipped_tiers?.map((s) => s.tier)).toEqual(["gemini-flash", "gemini-pro"]);
  });

  it("stops at once on an infrastructure failure", () => {
    for (const failure of [
      "auth_failure",
      "timeout",
      "syntax_error",
      "resource_limit",
      "disk_full",
      "network_error",
    ] as const) {
      const task = runAndEnd(created(), 1, failure);
      expect(task.status).toBe("failed");
      expect(planNext(task, ALL, config, 100)).toEqual({ kind: "none" });
    }
  });

  it("runs consensus after three sequential attempts, with the attempts left under the cap of five", () => {
    let task = created();
    for (let n = 1; n <= 3; n++) {
      task = runAndEnd(task, n, "unknown");
      if (n < 3) task = dispatchPlan(task).task;
    }
    const consensus = dispatchPlan(task);
    expect(consensus.task.tier).toBe("consensus");
    expect(consensus.attempts).toEqual([4, 5]);
    expect(consensus.task.attempts.slice(3).map((a) => [a.tier, a.role])).toEqual([
      ["opus", "consensus"],
      ["sonnet", "consensus"],
    ]);
  });

  it("lets consensus pick the passing candidate, and sends a round with none passing to a person", () => {
    const base = dispatchPlan(runAndEnd(created("opus"), 1, "test_fail"));
    expect(base.task.tier).toBe("consensus");
    let task = runAndEnd(base.task, 2, "test_fail");
    expect(task.status).toBe("running");
    expect(planNext(task, ALL, config, 100)).toEqual({ kind: "none" });
    const won = planNext(runAndEnd(task, 3, null, { output: "done by sonnet" }), ALL, config, 100);
    expect(won).toMatchObject({ kind: "settled", task: { status: "succeeded", winner: 3, output: "done by sonnet" } });
    task = runAndEnd(task, 3, "wrong_file");
    const human = planNext(task, ALL, config, 100);
    expect(human).toMatchObject({
      kind: "settled",
      task: {
        status: "awaiting_human",
        tier: "human",
        human: { reason: expect.stringContaining("no consensus candidate") },
      },
    });
  });

  it("never makes more than five attempts on its own", () => {
    let task = created();
    for (let step = 0; step < 10; step++) {
      const open = task.attempts.filter((a) => a.status === "dispatched");
      for (const attempt of open) task = runAndEnd(task, attempt.n, "unknown");
      const plan = planNext(task, ALL, config, 100);
      if (plan.kind !== "dispatch") {
        expect(plan).toMatchObject({ kind: "settled", task: { status: "awaiting_human" } });
        break;
      }
      task = plan.task;
    }
    expect(task.attempts.length).toBe(5);
  });

  it("prefers the candidate whose changed files the others agree with, then the cheaper", () => {
    const candidate = (n: number, files: string[], cost: number, status: Attempt["status"] = "succeeded"): Attempt => ({
      n,
      tier: "opus",
      executor: "",
      agent: "a",
      status,
      tokens: { input: 0, output: 0 },
      cost_usd: cost,
      latency_ms: 0,
      dispatched_at: 0,
      changed_files: files,
    });
    expect(
      judgeConsensus([candidate(1, ["a.ts"], 0.1), candidate(2, ["b.ts"], 0.5), candidate(3, ["b.ts"], 0.9)])?.winner,
    ).toBe(2);
    expect(judgeConsensus([candidate(1, ["a.ts"], 0.1, "failed")])).toBeNull();
  });

  it("judges by the changed lines, not the file names: the candidate the others share most lines with wins, with its reasons", () => {
    const candidate = (n: number, lines: string[], cost: number, status: Attempt["status"] = "succeeded"): Attempt => ({
      n,
      tier: "opus",
      executor: "",
      agent: "a",
      status,
      tokens: { input: 0, output: 0 },
      cost_usd: cost,
      latency_ms: 0,
      dispatched_at: 0,
      changed_files: ["same.ts"],
      diff_fingerprint: lines,
    });
    // All three change the same file; 2 and 3 share their lines, 1 wrote something else (and is cheapest).
    const decision = judgeConsensus([
      candidate(1, ["x1", "x2"], 0.01),
      candidate(2, ["a", "b", "c"], 0.5),
      candidate(3, ["a", "b", "d"], 0.4),
      candidate(4, ["a"], 0, "failed"),
    ]);
    expect(decision?.winner).toBe(3);
    expect(decision?.reasons[0]).toContain("attempt 3 (opus) passed");
    expect(decision?.reasons.join("\n")).toContain("attempt 4 (opus) did not pass");
    expect(decision?.reasons.join("\n")).toContain("50% with attempt 2");
  });

  it("starts at the next served tier when the asked one is not served, and waits when nothing is", () => {
    expect(startingTier("deepseek", new Set(["sonnet"]))).toEqual({
      tier: "sonnet",
      skipped: ["deepseek", "gemini-flash", "gemini-pro", "codex"],
    });
    expect(startingTier("deepseek", new Set())).toEqual({ tier: "deepseek", skipped: [] });
    expect(nextServedTier("opus", ALL).tier).toBeNull();
  });
});

describe("the human step", () => {
  function waiting(): TaskRecord {
    const plan = planNext(
      runAndEnd(
        runAndEnd(dispatchPlan(runAndEnd(created("opus"), 1, "test_fail", { output: "close" })).task, 2, "unknown"),
        3,
        "unknown",
      ),
      ALL,
      config,
      100,
    );
    if (plan.kind !== "settled") throw new Error("expected the human step");
    return plan.task;
  }

  it("approves the best attempt", () => {
    const resolved = resolveTask(waiting(), { decision: "approve" }, null, 200);
    expect(resolved).toMatchObject({
      ok: true,
      value: { task: { status: "succeeded", winner: 1, output: "close", human: { decision: "approve" } } },
    });
  });

  it("retries with a person's guidance at the tier they name, beyond the cap", () => {
    const resolved = resolveTask(waiting(), { decision: "retry", guidance: "use the other API" }, "sonnet", 200);
    if (!resolved.ok || resolved.value.kind !== "dispatch") throw new Error("expected a dispatch");
    expect(resolved.value.task.attempts.at(-1)).toMatchObject({
      tier: "sonnet",
      role: "retry",
      guidance: "use the other API",
    });
    expect(resolved.value.task.status).toBe("queued");
  });

  it("rejects, and refuses a decision on a task that is not waiting", () => {
    expect(resolveTask(waiting(), { decision: "reject", guidance: "wrong approach" }, null, 200)).toMatchObject({
      ok: true,
      value: { task: { status: "failed", error: { code: "rejected", message: "wrong approach" } } },
    });
    expect(resolveTask(created(), { decision: "approve" }, null, 200)).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
  });
});

describe("the next attempt's prompt", () => {
  it("carries what the last attempt did and why it failed, and a person's guidance", () => {
    const task = dispatchPlan(runAndEnd(created(), 1, "test_fail", { changed_files: ["src/a.ts"] })).task;
    const lines = [{ seq: 5, attempt: 1, stream: "stdout" as const, text: "FAIL test/a.test.ts > adds", ts: 0 }];
    const prompt = attemptPrompt(task, { ...(task.attempts[1] as Attempt), guidance: "check the edge case" }, lines);
    expect(prompt).toContain("fix the bug");
    expect(prompt).toContain("Attempt 1 (deepseek");
    expect(prompt).toContain("test_fail");
    expect(prompt).toContain("src/a.ts");
    expect(prompt).toContain("FAIL test/a.test.ts > adds");
    expect(prompt).toContain("check the edge case");
    expect(attemptPrompt(created(), created().attempts[0] as Attempt, [])).toBe("fix the bug");
  });
});

describe("the task's own max_cost_usd", () => {
  const capped = (max: number): TaskRecord => ({ ...created("sonnet"), max_cost_usd: max });

  it("sends the task to a person when the next attempt's reservation would pass it", () => {
    // Attempt 1 at sonnet cost $0.40; the next tier (opus) reserves more than the $1.00 left would allow.
    const task = runAndEnd(capped(1), 1, "test_fail", { cost_usd: 0.4 });
    const plan = planNext(task, ALL, config, 100);
    expect(plan.kind).toBe("settled");
    if (plan.kind !== "settled") return;
    expect(plan.task.status).toBe("awaiting_human");
    expect(plan.task.human?.reason).toMatch(
      /attempt 2 at opus would reserve \$\d+\.\d{4}; with \$0\.4000 spent that passes the task's max_cost_usd of \$1\.0000/,
    );
  });

  it("climbs as usual while the next reservation fits", () => {
    const plan = planNext(runAndEnd(capped(100), 1, "test_fail", { cost_usd: 0.4 }), ALL, config, 100);
    expect(plan.kind).toBe("dispatch");
  });

  it("makes no further attempt once what the attempts cost reached it, whatever the CLI's format: the task ends budget_exceeded, naming the cap", () => {
    // A codex-format CLI reports its cost only at its end: $0.32 against a $0.03 cap, and its check failed.
    const task = runAndEnd({ ...created("codex"), max_cost_usd: 0.03 }, 1, "test_fail", {
      cost_usd: 0.32,
      over_cap: true,
    });
    const plan = planNext(task, ALL, config, 100);
    expect(plan.kind).toBe("settled");
    if (plan.kind !== "settled") return;
    expect(plan.task.attempts).toHaveLength(1);
    expect(plan.task).toMatchObject({ status: "failed", error: { code: "budget_exceeded" } });
    expect(plan.task.error?.message).toContain("cost $0.3200, reaching its max_cost_usd of $0.0300");
    expect(plan.task.attempts[0]?.over_cap).toBe(true);
  });

  it("keeps a succeeded attempt's result past the cap, marked over_cap", () => {
    const task = runAndEnd({ ...created("codex"), max_cost_usd: 0.03 }, 1, null, { cost_usd: 0.32, over_cap: true });
    expect(task).toMatchObject({ status: "succeeded", result: { attempt: 1 } });
    expect(task.attempts[0]).toMatchObject({ status: "succeeded", over_cap: true });
    expect(planNext(task, ALL, config, 100).kind).toBe("none");
  });

  it("still climbs while what the attempts cost stays under it", () => {
    expect(
      planNext(
        runAndEnd({ ...created("deepseek"), max_cost_usd: 5 }, 1, "test_fail", { cost_usd: 0.01 }),
        ALL,
        config,
        100,
      ).kind,
    ).toBe("dispatch");
  });
});
