import { describe, expect, it } from "vitest";
import {
  AgentRevoked,
  CreateTaskRequest,
  ErrorReply,
  parseJson,
  TaskCreate,
  TaskRecord,
} from "../../protocol/index.ts";

const command = {
  type: "task.create",
  task_id: "01J00000000000000000000000",
  instruction: "x",
  tier: "sonnet",
  agent_selector: { by: "any" },
} as const;

describe("one schema per field, wherever it travels", () => {
  it("bounds max_cost_usd alike in the request, the command and the record", () => {
    expect(CreateTaskRequest.safeParse({ instruction: "x", max_cost_usd: 100_001 }).success).toBe(false);
    expect(TaskCreate.safeParse({ ...command, max_cost_usd: 100_001 }).success).toBe(false);
    expect(TaskCreate.safeParse({ ...command, max_cost_usd: 100_000 }).success).toBe(true);
    expect(TaskRecord.shape.max_cost_usd.safeParse(100_001).success).toBe(false);
    expect(TaskRecord.shape.max_cost_usd.safeParse(0).success).toBe(false);
  });

  it("reads trace and span ids as W3C ids in the command and the record: lowercase hex of their length, never all zero", () => {
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    expect(TaskCreate.safeParse({ ...command, trace_id: trace, trace_parent: "00f067aa0ba902b7" }).success).toBe(true);
    expect(TaskCreate.safeParse({ ...command, trace_id: "0".repeat(32) }).success).toBe(false);
    expect(TaskCreate.safeParse({ ...command, trace_id: trace.toUpperCase() }).success).toBe(false);
    expect(TaskRecord.shape.trace_parent.safeParse("0".repeat(16)).success).toBe(false);
    expect(TaskRecord.shape.trace_id.safeParse(trace).success).toBe(true);
  });

  it("parses JSON text into a typed value or a typed error, never a throw", () => {
    expect(parseJson(AgentRevoked, '{"name":"vm-a","state":"revoked","requeued":2}')).toEqual({
      ok: true,
      value: { name: "vm-a", state: "revoked", requeued: 2 },
    });
    expect(parseJson(AgentRevoked, "{not json", "the reply")).toEqual({
      ok: false,
      error: { code: "bad_json", message: "the reply is not valid JSON" },
    });
    const wrong = parseJson(AgentRevoked, '{"name":"vm-a","state":"gone","requeued":2}');
    expect(wrong.ok ? null : wrong.error.code).toBe("bad_request");
    expect(wrong.ok ? "" : wrong.error.message).toMatch(/^state: /);
    expect(parseJson(ErrorReply, '{"error":{"code":"not_found","message":"no task"}}').ok).toBe(true);
    expect(parseJson(ErrorReply, '{"error":{"code":"no_such_code","message":"x"}}').ok).toBe(false);
  });
});
