import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  AgentToRegistry,
  AgentToTask,
  CreateTaskRequest,
  ExecutorsFile,
  MAX_FRAME_BYTES,
  ViewerToTask,
  parseMessage,
  resolveExecutorTier,
} from "../../protocol/index.ts";

const hello = { type: "agent.hello", protocol_version: 1, name: "vm-1", kind: "vm", tiers: ["sonnet"], capacity: 2, version: "0.1.0", running: [] };
const batch = { type: "log.batch", attempt: 1, first_line: 0, lines: [{ stream: "stdout", text: "hi", ts: 1 }] };

describe("wire format", () => {
  it.each([
    ["agent.hello", AgentToRegistry, hello],
    ["agent.heartbeat", AgentToRegistry, { type: "agent.heartbeat", running: [{ task_id: "T", attempt: 1 }] }],
    ["task.released", AgentToRegistry, { type: "task.released", task_id: "T", attempt: 1 }],
    ["attempt.hello", AgentToTask, { type: "attempt.hello", protocol_version: 1, agent: "vm-1", attempt: 1, executor: "claude" }],
    ["log.batch", AgentToTask, batch],
    ["attempt.exit", AgentToTask, { type: "attempt.exit", attempt: 1, line_count: 1, exit_code: 0, signal: null, duration_ms: 5 }],
    ["logs.subscribe", ViewerToTask, { type: "logs.subscribe", since_seq: 0 }],
  ] as Array<[string, z.ZodType<unknown>, unknown]>)("accepts a valid %s", (_name, schema, message) => {
    expect(parseMessage(schema, JSON.stringify(message))).toMatchObject({ ok: true });
  });

  it.each([
    ["malformed JSON", AgentToTask, "{not json", "bad_json"],
    ["a message without type", AgentToTask, JSON.stringify({ attempt: 1 }), "unknown_type"],
    ["an unknown type", AgentToTask, JSON.stringify({ type: "log.delete" }), "unknown_type"],
    ["a wrong field type", AgentToTask, JSON.stringify({ ...batch, first_line: "zero" }), "bad_message"],
    ["an empty batch", AgentToTask, JSON.stringify({ ...batch, lines: [] }), "bad_message"],
    ["a line over the length limit", AgentToTask, JSON.stringify({ ...batch, lines: [{ stream: "stdout", text: "x".repeat(5000), ts: 1 }] }), "bad_message"],
    ["a bad stream", AgentToTask, JSON.stringify({ ...batch, lines: [{ stream: "stdin", text: "x", ts: 1 }] }), "bad_message"],
    ["an agent name with spaces", AgentToRegistry, JSON.stringify({ ...hello, name: "my agent" }), "bad_message"],
    ["a hello with an unknown tier", AgentToRegistry, JSON.stringify({ ...hello, tiers: ["gpt-9"] }), "bad_message"],
    ["an oversized frame", AgentToTask, JSON.stringify({ ...batch, pad: "x".repeat(MAX_FRAME_BYTES) }), "message_too_large"],
  ] as Array<[string, z.ZodType<unknown>, string, string]>)("rejects %s with a typed error", (_name, schema, raw, code) => {
    const parsed = parseMessage(schema, raw);
    expect(parsed).toMatchObject({ ok: false, error: { code } });
  });

  it("names the bad field in the error message", () => {
    const parsed = parseMessage(AgentToTask, JSON.stringify({ ...batch, first_line: -1 }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toContain("first_line");
  });

  it("rejects binary frames", () => {
    expect(parseMessage(AgentToTask, new Uint8Array([1, 2]))).toMatchObject({ ok: false, error: { code: "bad_message" } });
  });
});

describe("task requests", () => {
  it("takes instruction or prompt, not both, not neither", () => {
    expect(CreateTaskRequest.safeParse({ instruction: "x" }).success).toBe(true);
    expect(CreateTaskRequest.safeParse({ prompt: "x", name: "fix-login", cwd: "/src" }).success).toBe(true);
    expect(CreateTaskRequest.safeParse({ instruction: "x", prompt: "y" }).success).toBe(false);
    expect(CreateTaskRequest.safeParse({}).success).toBe(false);
  });

  it("refuses names that could be mistaken for task ids or paths", () => {
    expect(CreateTaskRequest.safeParse({ instruction: "x", name: "01J00000000000000000000000" }).success).toBe(false);
    expect(CreateTaskRequest.safeParse({ instruction: "x", name: "../etc" }).success).toBe(false);
  });

  it("resolves tier ids and CLI names to tiers", () => {
    expect(resolveExecutorTier("opus")).toBe("opus");
    expect(resolveExecutorTier("claude")).toBe("sonnet");
    expect(resolveExecutorTier("opencode")).toBe("deepseek");
    expect(resolveExecutorTier("gpt")).toBeNull();
  });
});

describe("executors file", () => {
  it("accepts the example of INTERFACES.md", () => {
    const file = { executors: { sonnet: { command: ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose", "--model", "sonnet"], format: "claude-stream-json", timeout_s: 1800 } } };
    expect(ExecutorsFile.safeParse(file).success).toBe(true);
  });

  it("refuses unknown tiers, formats and empty commands", () => {
    expect(ExecutorsFile.safeParse({ executors: { gpt: { command: ["x"], format: "text" } } }).success).toBe(false);
    expect(ExecutorsFile.safeParse({ executors: { sonnet: { command: ["x"], format: "xml" } } }).success).toBe(false);
    expect(ExecutorsFile.safeParse({ executors: { sonnet: { command: [], format: "text" } } }).success).toBe(false);
    expect(ExecutorsFile.safeParse({ executors: {} }).success).toBe(false);
  });
});
