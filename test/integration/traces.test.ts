// A trace per task (docs/traces.md): a real mesh exports to a real OTLP/HTTP receiver on loopback; a
// real agent runs a CLI that records the TRACEPARENT it was given.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatTraceparent,
  type OtlpSpan,
  spanIdOf,
  type TaskView,
  type TraceExportStatus,
} from "../../protocol/index.ts";
import { FIXTURES, freePort, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

/** What the receiver was sent: each request's path, and every span with the resource's service name. */
type Received = { paths: string[]; spans: (OtlpSpan & { service: string })[] };
type ExportBody = {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
  }[];
};

let mesh: Mesh;
let agent: TestAgent;
let receiver: Server;
let scratch: string;
let receiverPort: number;
const received: Received = { paths: [], spans: [] };

/** An OTLP/HTTP collector on loopback: takes JSON exports at /v1/traces and answers 200 `{}`. */
async function startReceiver(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.paths.push(`${request.method} ${request.url} ${request.headers["content-type"]}`);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ExportBody;
      for (const resource of body.resourceSpans) {
        const service = resource.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
        for (const scope of resource.scopeSpans)
          for (const span of scope.spans) received.spans.push({ ...span, service });
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return server;
}

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER = "00f067aa0ba902b7";

async function createWithHeader(body: Record<string, unknown>, traceparent: string): Promise<TaskView> {
  const response = await fetch(`${mesh.url}/api/tasks`, {
    method: "POST",
    headers: { authorization: `Bearer ${mesh.orchestratorToken}`, "content-type": "application/json", traceparent },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as TaskView;
}

const traceStatus = async (): Promise<TraceExportStatus> => (await mesh.api<TraceExportStatus>("/api/traces")).body;

beforeAll(async () => {
  const port = (receiverPort = await freePort());
  receiver = await startReceiver(port);
  scratch = mkdtempSync(join(tmpdir(), "mesh-traces-"));
  mesh = await startMesh({ MESH_OTLP_URL: `http://127.0.0.1:${port}` });
  agent = await startAgent(
    mesh,
    "vm-traces",
    {
      executors: {
        sonnet: {
          command: [process.execPath, join(FIXTURES, "env-writer.mjs"), join(scratch, "env.jsonl")],
          format: "text",
          timeout_s: 60,
        },
      },
    },
    { capacity: 2 },
  );
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  await new Promise((done) => receiver?.close(done));
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe("a trace per task", () => {
  it("continues the caller's trace: the receiver gets task → attempt → acceptance with the derived ids, and the CLI saw TRACEPARENT", async () => {
    const created = await createWithHeader(
      { instruction: "record the env", executor: "sonnet", acceptance: { command: "echo checked" } },
      `00-${TRACE}-${CALLER}-01`,
    );
    expect(created.trace_id).toBe(TRACE);
    const task = await mesh.finished(created.task_id);
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]?.acceptance).toMatchObject({ command: "echo checked", passed: true });

    const ids = {
      task: spanIdOf(TRACE, task.task_id, "task", 0),
      attempt: spanIdOf(TRACE, task.task_id, "attempt", 1),
      dispatch: spanIdOf(TRACE, task.task_id, "dispatch", 1),
      acceptance: spanIdOf(TRACE, task.task_id, "acceptance", 1),
    };
    const spans = await waitFor("the task's spans at the receiver", () => {
      const mine = received.spans.filter((s) => s.traceId === TRACE);
      return mine.length >= 4 ? mine : null;
    });
    expect(received.paths[0]).toBe("POST /v1/traces application/json");
    expect(spans.every((s) => s.service === "agent-mesh")).toBe(true);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    expect(byId.get(ids.task)).toMatchObject({ name: "task", parentSpanId: CALLER, status: { code: 1 } });
    expect(byId.get(ids.dispatch)).toMatchObject({ name: "dispatch", parentSpanId: ids.task });
    expect(byId.get(ids.attempt)).toMatchObject({ name: "attempt", parentSpanId: ids.task, status: { code: 1 } });
    expect(byId.get(ids.acceptance)).toMatchObject({
      name: "acceptance",
      parentSpanId: ids.attempt,
      status: { code: 1 },
    });
    expect(spans).toHaveLength(4);
    // Nested in time too: the attempt within the task, its acceptance within the attempt.
    const within = (inner: OtlpSpan | undefined, outer: OtlpSpan | undefined): boolean =>
      inner !== undefined &&
      outer !== undefined &&
      BigInt(inner.startTimeUnixNano) >= BigInt(outer.startTimeUnixNano) &&
      BigInt(inner.endTimeUnixNano) <= BigInt(outer.endTimeUnixNano);
    expect(within(byId.get(ids.attempt), byId.get(ids.task))).toBe(true);
    expect(within(byId.get(ids.acceptance), byId.get(ids.attempt))).toBe(true);

    const seen = readFileSync(join(scratch, "env.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { TRACEPARENT: string | null });
    expect(seen).toContainEqual({ TRACEPARENT: formatTraceparent(TRACE, ids.attempt) });
    const status = await traceStatus();
    // MESH_OTLP_URL is the collector's base URL: /v1/traces is appended, as OTEL_EXPORTER_OTLP_ENDPOINT's is.
    expect(status.endpoint).toBe(`http://127.0.0.1:${receiverPort}/v1/traces`);
    expect(status.exported_total).toBeGreaterThanOrEqual(4);
  });

  it("honours a traceparent on the MCP request too", async () => {
    const trace = "0af7651916cd43dd8448eb211c80319c";
    const transport = new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
      requestInit: {
        headers: { authorization: `Bearer ${mesh.orchestratorToken}`, traceparent: `00-${trace}-b7ad6b7169203331-01` },
      },
    });
    const client = new Client({ name: "traces-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      const result = (await client.callTool({
        name: "dispatch",
        arguments: { name: "traced-by-mcp", prompt: "record the env", executor: "sonnet" },
      })) as CallToolResult;
      const task = result.structuredContent as TaskView;
      expect(task.trace_id).toBe(trace);
      expect((await mesh.finished(task.task_id)).status).toBe("succeeded");
      const spans = await waitFor("the MCP task's spans", () =>
        received.spans.some((s) => s.traceId === trace && s.name === "attempt")
          ? received.spans.filter((s) => s.traceId === trace)
          : null,
      );
      expect(spans.find((s) => s.name === "task")?.parentSpanId).toBe("b7ad6b7169203331");
    } finally {
      await client.close();
    }
  });

  it("starts a new trace for an invalid traceparent; with the collector down, spans are dropped and counted and the task still succeeds", async () => {
    await new Promise((done) => receiver.close(done));
    const before = await traceStatus();
    const created = await createWithHeader(
      { instruction: "record the env", executor: "sonnet" },
      `00-${"0".repeat(32)}-${CALLER}-01`,
    );
    expect(created.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.trace_id).not.toBe("0".repeat(32));
    const task = await mesh.finished(created.task_id);
    expect(task.status).toBe("succeeded");
    // Its three spans (task, dispatch, attempt) are dropped: the port is closed.
    const after = await waitFor("the dropped spans to be counted", async () => {
      const status = await traceStatus();
      return status.dropped_total >= before.dropped_total + 3 ? status : null;
    });
    expect(after.exported_total).toBe(before.exported_total);
    expect(after.last_error?.message).toMatch(/could not be reached|did not answer/);
    expect(after.queued).toBe(0);
  });
});
