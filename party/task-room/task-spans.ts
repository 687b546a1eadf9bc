import {
  type Attempt,
  type OtlpAttribute,
  type OtlpSpan,
  SPAN_KIND_INTERNAL,
  type SpanRole,
  SpanStatusCode,
  spanIdOf,
  type TaskRecord,
} from "../../protocol/index.ts";

// A task's trace, computed from the times its record already holds (docs/traces.md "Spans"): no clock
// is read and nothing is stored, so the same record always gives the same spans with the same ids.

type Value = string | number | boolean | undefined;

/**
 * OTLP attributes from plain values: integers as `intValue` (a string in JSON), other numbers as doubles; undefined
 * ones left out.
 */
function attributes(values: Record<string, Value>): OtlpAttribute[] {
  const out: OtlpAttribute[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (typeof value === "string") out.push({ key, value: { stringValue: value.slice(0, 1000) } });
    else if (typeof value === "boolean") out.push({ key, value: { boolValue: value } });
    else if (Number.isInteger(value)) out.push({ key, value: { intValue: String(value) } });
    else out.push({ key, value: { doubleValue: value } });
  }
  return out;
}

/** ms since epoch → OTLP's ns since epoch, as a decimal string (beyond a double's exact integers). */
const nanos = (ms: number): string => (BigInt(Math.max(0, Math.round(ms))) * 1_000_000n).toString();

type SpanFacts = {
  role: SpanRole;
  attempt: number;
  name: string;
  parent: string | undefined;
  start: number;
  end: number;
  values: Record<string, Value>;
  status: OtlpSpan["status"];
};

function spanOf(task: TaskRecord & { trace_id: string }, facts: SpanFacts): OtlpSpan {
  return {
    traceId: task.trace_id,
    spanId: spanIdOf(task.trace_id, task.task_id, facts.role, facts.attempt),
    ...(facts.parent === undefined ? {} : { parentSpanId: facts.parent }),
    name: facts.name,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: nanos(facts.start),
    // A span never ends before it starts, whatever the record's times say.
    endTimeUnixNano: nanos(Math.max(facts.start, facts.end)),
    attributes: attributes({ "agent_mesh.task_id": task.task_id, ...facts.values }),
    status: facts.status,
  };
}

const errorStatus = (message: string): OtlpSpan["status"] => ({
  code: SpanStatusCode.error,
  message: message.slice(0, 500),
});

function attemptStatus(attempt: Attempt): OtlpSpan["status"] {
  if (attempt.status === "succeeded") return { code: SpanStatusCode.ok };
  if (attempt.status === "failed") return errorStatus(attempt.failure_class ?? "failed");
  return { code: SpanStatusCode.unset };
}

/**
 * The spans of a task with a trace id: the task's own (created → its last change; its parent is the
 * creating request's span), and under it each attempt's dispatch wait (dispatched → an agent's hello)
 * and run (hello → exit), each acceptance check under its attempt, and each move of tier between one
 * attempt and the next (escalation, or a person's retry at another tier). Open spans end at `now`
 * (default: the task's last change).
 */
export function taskSpans(task: TaskRecord, now: number = task.updated_at): OtlpSpan[] {
  if (task.trace_id === undefined) return [];
  const traced = { ...task, trace_id: task.trace_id };
  const taskSpanId = spanIdOf(traced.trace_id, task.task_id, "task", 0);
  const taskEnd = Math.max(task.created_at, now);
  const spans: OtlpSpan[] = [
    spanOf(traced, {
      role: "task",
      attempt: 0,
      name: "task",
      parent: task.trace_parent,
      start: task.created_at,
      end: taskEnd,
      values: {
        "agent_mesh.task.name": task.name,
        "agent_mesh.task.status": task.status,
        "agent_mesh.tier": task.tier,
        "agent_mesh.attempts": task.attempts.length,
        "agent_mesh.cost_usd": task.cost_usd,
        "agent_mesh.error.code": task.error?.code,
      },
      status:
        task.status === "succeeded"
          ? { code: SpanStatusCode.ok }
          : task.status === "failed"
            ? errorStatus(task.error?.message ?? task.error?.code ?? "failed")
            : { code: SpanStatusCode.unset },
    }),
  ];
  const attempts = [...task.attempts].sort((a, b) => a.n - b.n);
  let previous: Attempt | undefined;
  for (const attempt of attempts) {
    const common = { "agent_mesh.attempt": attempt.n, "agent_mesh.tier": attempt.tier };
    // A move of tier from the attempt before: the ladder's escalation, or a person's retry elsewhere (consensus
    // candidates run side by side: no move).
    if (previous !== undefined && previous.tier !== attempt.tier && attempt.role !== "consensus") {
      spans.push(
        spanOf(traced, {
          role: "escalation",
          attempt: attempt.n,
          name: "escalation",
          parent: taskSpanId,
          start: Math.min(previous.ended_at ?? attempt.dispatched_at, attempt.dispatched_at),
          end: attempt.dispatched_at,
          values: {
            ...common,
            "agent_mesh.escalation.from_tier": previous.tier,
            "agent_mesh.escalation.to_tier": attempt.tier,
            "agent_mesh.escalation.by": attempt.role === "retry" ? "person" : "ladder",
            "agent_mesh.escalation.reason": previous.failure_class,
          },
          status: { code: SpanStatusCode.unset },
        }),
      );
    }
    const taken = attempt.started_at;
    const waitEnd = taken ?? attempt.ended_at ?? taskEnd;
    spans.push(
      spanOf(traced, {
        role: "dispatch",
        attempt: attempt.n,
        name: "dispatch",
        parent: taskSpanId,
        start: attempt.dispatched_at,
        end: waitEnd,
        values: {
          ...common,
          "agent_mesh.agent": attempt.agent ?? undefined,
          "agent_mesh.dispatch.taken": taken !== undefined,
        },
        status:
          taken === undefined && attempt.status === "failed"
            ? errorStatus(attempt.failure_class ?? "not taken")
            : { code: SpanStatusCode.unset },
      }),
    );
    if (taken !== undefined) {
      const attemptEnd = attempt.ended_at ?? taskEnd;
      spans.push(
        spanOf(traced, {
          role: "attempt",
          attempt: attempt.n,
          name: "attempt",
          parent: taskSpanId,
          start: taken,
          end: attemptEnd,
          values: {
            ...common,
            "agent_mesh.agent": attempt.agent ?? undefined,
            "agent_mesh.executor": attempt.executor,
            "agent_mesh.model": attempt.model,
            "agent_mesh.attempt.role": attempt.role,
            "agent_mesh.attempt.status": attempt.status,
            "agent_mesh.failure_class": attempt.failure_class,
            "agent_mesh.exit_code": attempt.exit_code,
            "agent_mesh.cost_usd": attempt.cost_usd,
            "agent_mesh.tokens.input": attempt.tokens.input,
            "agent_mesh.tokens.output": attempt.tokens.output,
          },
          status: attemptStatus(attempt),
        }),
      );
      const evidence = attempt.acceptance;
      // The check runs last on the agent, just before its exit: it ends with the attempt, and lasts what the agent
      // measured (no clock of the agent's is compared with the room's).
      if (evidence !== undefined) {
        spans.push(
          spanOf(traced, {
            role: "acceptance",
            attempt: attempt.n,
            name: "acceptance",
            parent: spanIdOf(traced.trace_id, task.task_id, "attempt", attempt.n),
            start: Math.max(taken, attemptEnd - (evidence.duration_ms ?? 0)),
            end: attemptEnd,
            values: {
              ...common,
              "agent_mesh.acceptance.command": evidence.command,
              "agent_mesh.acceptance.exit_code": evidence.exit_code ?? undefined,
              "agent_mesh.acceptance.passed": evidence.passed,
            },
            status: evidence.passed ? { code: SpanStatusCode.ok } : errorStatus("the acceptance command failed"),
          }),
        );
      }
    }
    previous = attempt;
  }
  return spans;
}
