import { describe, expect, it } from "vitest";
import { stored } from "../../party/task-room/task-events.ts";
import { taskSpans } from "../../party/task-room/task-spans.ts";
import { type Attempt, OtlpSpan, SpanStatusCode, spanIdOf, type TaskRecord } from "../../protocol/index.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER = "00f067aa0ba902b7";
const TASK = "01J00000000000000000000000";

const attempt = (n: number, tier: Attempt["tier"], times: Partial<Attempt>, rest: Partial<Attempt> = {}): Attempt => ({
  n,
  tier,
  executor: "claude",
  agent: "vm-1",
  status: "succeeded",
  tokens: { input: 10, output: 5 },
  cost_usd: 0.01,
  latency_ms: 0,
  dispatched_at: 0,
  role: "sequential",
  ...times,
  ...rest,
});

/** A task that failed its acceptance at sonnet, escalated to opus, and passed there. */
const escalated = (): TaskRecord => ({
  task_id: TASK,
  status: "succeeded",
  instruction: "fix it",
  tier: "opus",
  agent_selector: { by: "any" },
  attempts: [
    attempt(
      1,
      "sonnet",
      { dispatched_at: 1_000, started_at: 1_200, ended_at: 5_000 },
      {
        status: "failed",
        failure_class: "test_fail",
        acceptance: { command: "npm test", exit_code: 1, passed: false, output_tail: "", duration_ms: 800 },
      },
    ),
    attempt(
      2,
      "opus",
      { dispatched_at: 5_010, started_at: 5_500, ended_at: 9_000 },
      { acceptance: { command: "npm test", exit_code: 0, passed: true, output_tail: "", duration_ms: 700 } },
    ),
  ],
  tokens: { input: 20, output: 10 },
  cost_usd: 0.02,
  latency_ms: 7_300,
  trace_id: TRACE,
  trace_parent: CALLER,
  created_at: 1_000,
  updated_at: 9_100,
});

const byName = (spans: OtlpSpan[], name: string, n?: number): OtlpSpan => {
  const found = spans.find(
    (s) =>
      s.name === name &&
      (n === undefined ||
        s.attributes.some(
          (a) => a.key === "agent_mesh.attempt" && "intValue" in a.value && a.value.intValue === String(n),
        )),
  );
  if (found === undefined) throw new Error(`no ${name} span${n === undefined ? "" : ` for attempt ${n}`}`);
  return found;
};
const ms = (nanos: string): number => Number(BigInt(nanos) / 1_000_000n);

describe("a task's spans", () => {
  it("has none without a trace id", () => {
    expect(taskSpans({ ...escalated(), trace_id: undefined })).toEqual([]);
  });

  it("nests task → dispatch, attempt and escalation, attempt → acceptance, under the caller's span", () => {
    const spans = taskSpans(escalated());
    for (const span of spans) expect(OtlpSpan.safeParse(span).success).toBe(true);
    expect(spans.every((s) => s.traceId === TRACE)).toBe(true);
    const task = byName(spans, "task");
    expect(task.parentSpanId).toBe(CALLER);
    expect(task.spanId).toBe(spanIdOf(TRACE, TASK, "task", 0));
    for (const n of [1, 2]) {
      const run = byName(spans, "attempt", n);
      expect(run.spanId).toBe(spanIdOf(TRACE, TASK, "attempt", n));
      expect(run.parentSpanId).toBe(task.spanId);
      expect(byName(spans, "dispatch", n).parentSpanId).toBe(task.spanId);
      expect(byName(spans, "acceptance", n).parentSpanId).toBe(run.spanId);
    }
    const escalation = byName(spans, "escalation");
    expect(escalation.parentSpanId).toBe(task.spanId);
    expect(escalation.attributes).toEqual(
      expect.arrayContaining([
        { key: "agent_mesh.escalation.from_tier", value: { stringValue: "sonnet" } },
        { key: "agent_mesh.escalation.to_tier", value: { stringValue: "opus" } },
      ]),
    );
    expect(spans.map((s) => s.name).sort()).toEqual([
      "acceptance",
      "acceptance",
      "attempt",
      "attempt",
      "dispatch",
      "dispatch",
      "escalation",
      "task",
    ]);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
  });

  it("takes its times from the record: dispatched → hello → exit, acceptance ending with its attempt", () => {
    const spans = taskSpans(escalated());
    const task = byName(spans, "task");
    expect([ms(task.startTimeUnixNano), ms(task.endTimeUnixNano)]).toEqual([1_000, 9_100]);
    const dispatch = byName(spans, "dispatch", 2);
    expect([ms(dispatch.startTimeUnixNano), ms(dispatch.endTimeUnixNano)]).toEqual([5_010, 5_500]);
    const run = byName(spans, "attempt", 2);
    expect([ms(run.startTimeUnixNano), ms(run.endTimeUnixNano)]).toEqual([5_500, 9_000]);
    const check = byName(spans, "acceptance", 2);
    expect([ms(check.startTimeUnixNano), ms(check.endTimeUnixNano)]).toEqual([8_300, 9_000]);
    const escalation = byName(spans, "escalation");
    expect([ms(escalation.startTimeUnixNano), ms(escalation.endTimeUnixNano)]).toEqual([5_000, 5_010]);
  });

  it("marks failures as errors and successes as ok", () => {
    const spans = taskSpans(escalated());
    expect(byName(spans, "attempt", 1).status).toEqual({ code: SpanStatusCode.error, message: "test_fail" });
    expect(byName(spans, "acceptance", 1).status.code).toBe(SpanStatusCode.error);
    expect(byName(spans, "attempt", 2).status.code).toBe(SpanStatusCode.ok);
    expect(byName(spans, "task").status.code).toBe(SpanStatusCode.ok);
  });

  it("gives the same spans for the same record: a second export names the same spans", () => {
    expect(taskSpans(escalated())).toEqual(taskSpans(escalated()));
  });

  it("has a dispatch wait but no attempt span for an attempt no agent took, and no parent for a task started without a traceparent", () => {
    const task: TaskRecord = {
      ...escalated(),
      status: "failed",
      trace_parent: undefined,
      error: { code: "no_agent", message: "nobody served sonnet" },
      attempts: [
        attempt(
          1,
          "sonnet",
          { dispatched_at: 1_000, ended_at: 4_000 },
          { status: "failed", failure_class: "no_agent", agent: null },
        ),
      ],
    };
    const spans = taskSpans(task);
    expect(spans.map((s) => s.name)).toEqual(["task", "dispatch"]);
    expect(byName(spans, "task").parentSpanId).toBeUndefined();
    expect(byName(spans, "task").status.code).toBe(SpanStatusCode.error);
    const wait = byName(spans, "dispatch", 1);
    expect([ms(wait.startTimeUnixNano), ms(wait.endTimeUnixNano)]).toEqual([1_000, 4_000]);
    expect(wait.status.code).toBe(SpanStatusCode.error);
  });

  it("sees no escalation between consensus candidates at different tiers", () => {
    const task: TaskRecord = {
      ...escalated(),
      attempts: [
        attempt(1, "sonnet", { dispatched_at: 1_000, started_at: 1_100, ended_at: 2_000 }, { role: "consensus" }),
        attempt(2, "opus", { dispatched_at: 1_000, started_at: 1_100, ended_at: 2_000 }, { role: "consensus" }),
      ],
    };
    expect(taskSpans(task).filter((s) => s.name === "escalation")).toEqual([]);
  });
});

describe("the actor's export of a finished task's spans", () => {
  const running = (): TaskRecord => ({ ...escalated(), status: "running" });
  const exports = (previous: TaskRecord | null, next: TaskRecord) =>
    stored(previous, next, "note").effects.filter((effect) => effect.kind === "export-spans");

  it("asks once, as a traced task ends", () => {
    expect(exports(running(), escalated())).toEqual([
      { kind: "export-spans", task: expect.objectContaining({ task_id: TASK, status: "succeeded" }) },
    ]);
    // Already ended: a later change (an apply, say) does not export again.
    expect(exports(escalated(), { ...escalated(), cost_usd: 0.03 })).toEqual([]);
    // Still running, or without a trace: nothing.
    expect(exports(running(), { ...running(), cost_usd: 0.03 })).toEqual([]);
    expect(exports(running(), { ...escalated(), trace_id: undefined })).toEqual([]);
  });
});
