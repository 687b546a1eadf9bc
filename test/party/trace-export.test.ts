import { describe, expect, it } from "vitest";
import { withTraceparent } from "../../agents/runtime/child-trace-env.ts";
import { checkSettings, serverVars } from "../../launcher/server-vars.ts";
import { traceOfRequest } from "../../party/edge/task-trace-context.ts";
import { exportRequestBody } from "../../party/traces/otlp-sender.ts";
import { SpanBuffer } from "../../party/traces/span-buffer.ts";
import { type OtlpSpan, otlpTracesUrl, otlpUrlProblem } from "../../protocol/index.ts";

const span = (i: number): OtlpSpan => ({
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: (i + 1).toString(16).padStart(16, "0"),
  name: "task",
  kind: 1,
  startTimeUnixNano: "1000000",
  endTimeUnixNano: "2000000",
  attributes: [],
  status: { code: 0 },
});

describe("MESH_OTLP_URL, read as OTEL_EXPORTER_OTLP_ENDPOINT is", () => {
  it.each([
    ["http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"],
    ["http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"],
    ["https://collector.example/otlp", "https://collector.example/otlp/v1/traces"],
    ["http://127.0.0.1:4318/v1/traces", "http://127.0.0.1:4318/v1/traces"],
  ])("%s → %s", (setting, url) => {
    expect(otlpTracesUrl({ MESH_OTLP_URL: setting })).toBe(url);
  });

  it("is off when unset, empty or not http(s), and says why for a bad one", () => {
    expect(otlpTracesUrl({})).toBeNull();
    expect(otlpTracesUrl({ MESH_OTLP_URL: " " })).toBeNull();
    expect(otlpTracesUrl({ MESH_OTLP_URL: "ftp://collector" })).toBeNull();
    expect(otlpUrlProblem(undefined)).toBeNull();
    expect(otlpUrlProblem("http://127.0.0.1:4318")).toBeNull();
    expect(otlpUrlProblem("collector:4318")).toMatch(/^MESH_OTLP_URL=collector:4318 is not an http\(s\) URL/);
  });

  it("reaches the server from the environment, and a bad one stops the server at start with one line", () => {
    const secrets = { MESH_ORCHESTRATOR_TOKEN: "o".repeat(32), MESH_AGENT_TOKEN: "a".repeat(32) };
    expect(serverVars(secrets, { MESH_OTLP_URL: "http://127.0.0.1:4318" }).MESH_OTLP_URL).toBe("http://127.0.0.1:4318");
    expect(checkSettings({ MESH_OTLP_URL: "http://127.0.0.1:4318" })).toEqual({ ok: true, value: undefined });
    expect(checkSettings({ MESH_OTLP_URL: "127.0.0.1:4318" })).toMatchObject({
      ok: false,
      error: {
        code: "otlp_url_invalid",
        message: expect.stringMatching(/^MESH_OTLP_URL=127\.0\.0\.1:4318 is not an http\(s\) URL/),
      },
    });
  });
});

describe("the trace room's span queue", () => {
  it("queues up to its cap and drops (and counts) the rest", () => {
    const buffer = new SpanBuffer(5);
    expect(buffer.offer([span(0), span(1), span(2)])).toBe(3);
    expect(buffer.offer([span(3), span(4), span(5), span(6)])).toBe(2);
    expect(buffer.status(null)).toMatchObject({ queued: 5, queue_cap: 5, dropped_total: 2, exported_total: 0 });
  });

  it("counts a sent batch as exported, a failed one as dropped with why", () => {
    const buffer = new SpanBuffer(10);
    buffer.offer([span(0), span(1), span(2)]);
    const first = buffer.take(2);
    expect(first.map((s) => s.spanId)).toEqual([span(0).spanId, span(1).spanId]);
    buffer.settle(first.length, null, 1);
    buffer.settle(buffer.take(2).length, "the collector answered 503", 2);
    expect(buffer.status("http://x/v1/traces")).toEqual({
      endpoint: "http://x/v1/traces",
      queued: 0,
      queue_cap: 10,
      exported_total: 2,
      dropped_total: 1,
      last_error: { at: 2, message: "the collector answered 503" },
    });
  });

  it("sends OTLP/HTTP JSON: one resource named agent-mesh, one scope", () => {
    expect(exportRequestBody([span(0)])).toEqual({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "agent-mesh" } }] },
          scopeSpans: [{ scope: { name: "agent-mesh" }, spans: [span(0)] }],
        },
      ],
    });
  });
});

describe("the CLI's TRACEPARENT", () => {
  const executor = { command: ["claude"], format: "text" as const, timeout_s: 60, env: { KEEP: "1" } };
  it("joins the executor's environment when the assignment carries a valid one", () => {
    const header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    expect(withTraceparent(executor, header).env).toEqual({ KEEP: "1", TRACEPARENT: header });
  });

  it("changes nothing when absent or malformed", () => {
    expect(withTraceparent(executor, undefined)).toBe(executor);
    expect(withTraceparent(executor, "00-zz-00f067aa0ba902b7-01")).toBe(executor);
  });
});

describe("a new task's trace", () => {
  it("continues a valid traceparent: its trace id, and its span as the task's parent", () => {
    expect(traceOfRequest("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      trace_parent: "00f067aa0ba902b7",
    });
  });

  it("starts a new trace, with no parent, when the header is absent or invalid", () => {
    for (const header of [null, undefined, "", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "garbage"]) {
      const trace = traceOfRequest(header);
      expect(trace.trace_parent).toBeUndefined();
      expect(trace.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.trace_id).not.toBe("0".repeat(32));
    }
  });
});
