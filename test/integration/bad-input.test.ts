// Garbage on every socket and route gets a typed error or a documented close, and the rooms go on serving.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { mintAttemptToken } from "../../party/auth/attempt-token.ts";
import {
  CloseCode,
  type LogLine,
  MAX_BODY_BYTES,
  MAX_FRAME_BYTES,
  RUNTIME_FRAME_LIMIT_BYTES,
  type TaskView,
} from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, TaskViewer, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;

beforeAll(async () => {
  mesh = await startMesh();
  agent = await startAgent(mesh, "vm-bad-input", {
    executors: {
      sonnet: {
        command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "600", "0", "50", "100"],
        format: "text",
        timeout_s: 120,
      },
    },
  });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

/** A raw socket that records every frame and the close. */
async function rawSocket(
  path: string,
  token: string,
): Promise<{
  socket: WebSocket;
  frames: Array<{ type: string; code?: string; message?: string }>;
  closed: Promise<number>;
}> {
  const socket = new WebSocket(`ws://127.0.0.1:${mesh.port}${path}?token=${encodeURIComponent(token)}`);
  const frames: Array<{ type: string; code?: string }> = [];
  socket.on("message", (raw) => frames.push(JSON.parse(raw.toString()) as { type: string; code?: string }));
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return { socket, frames, closed };
}

const errorCodes = (frames: Array<{ type: string; code?: string }>): Array<string | undefined> =>
  frames.filter((f) => f.type === "error").map((f) => f.code);

describe("bad input on sockets", () => {
  it("answers garbage from an agent on a task room with typed errors while the task streams on to its viewer", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "x", executor: "sonnet" },
    });
    const taskId = created.body.task_id;
    const viewer = await TaskViewer.open(mesh, taskId);
    // The enrollment token may only register (docs/agent-identity.md); an agent holding another attempt's token gets
    // in, and no further.
    await expect(rawSocket(`/parties/task/${taskId}`, mesh.agentToken)).rejects.toThrow(/403/);
    const otherAttempt = await mintAttemptToken(
      { taskId, attempt: 7, agent: "intruder" },
      mesh.orchestratorToken,
      Date.now(),
    );
    const intruder = await rawSocket(`/parties/task/${taskId}`, otherAttempt);
    intruder.socket.send("{not json");
    intruder.socket.send(JSON.stringify({ type: "log.delete" }));
    intruder.socket.send(JSON.stringify({ type: "log.batch", attempt: "one" }));
    intruder.socket.send(
      JSON.stringify({
        type: "log.batch",
        attempt: 1,
        first_line: 0,
        lines: [{ stream: "stdout", text: "forged", ts: 1 }],
      }),
    );
    intruder.socket.send(
      JSON.stringify({ type: "attempt.exit", attempt: 1, line_count: 0, exit_code: 0, signal: null, duration_ms: 1 }),
    );
    intruder.socket.send("x".repeat(MAX_FRAME_BYTES + 10));
    await waitFor("six errors", () => intruder.frames.length >= 6);
    expect(errorCodes(intruder.frames)).toEqual([
      "bad_json",
      "unknown_type",
      "bad_message",
      "not_assigned",
      "not_assigned",
      "message_too_large",
    ]);
    // A hello for an attempt the intruder does not hold closes it with the documented code.
    intruder.socket.send(
      JSON.stringify({ type: "attempt.hello", protocol_version: 1, agent: "intruder", attempt: 1, executor: "x" }),
    );
    expect(await intruder.closed).toBe(CloseCode.notAssigned);
    // Above the runtime's own frame limit the socket is closed before the room sees it: 1009, or 1006
    // when the runtime drops the connection while the client is still writing the 1 MiB frame (seen
    // under a loaded full run). Either way the room goes on serving, which the rest of this test shows.
    const giant = await rawSocket(`/parties/task/${taskId}`, otherAttempt);
    giant.socket.send("x".repeat(RUNTIME_FRAME_LIMIT_BYTES + 10));
    expect([1009, 1006]).toContain(await giant.closed);

    const task = await waitFor("the task to finish", async () => {
      const current = await mesh.task(taskId);
      return current.status === "succeeded" ? current : null;
    });
    expect(task.attempts[0]?.agent).toBe("vm-bad-input");
    await waitFor(
      "all lines at the viewer",
      () => viewer.lines.filter((l: LogLine) => l.stream === "stdout").length >= 600,
    );
    expect(viewer.lines.some((l) => l.text === "forged")).toBe(false);
    expect(viewer.lines.map((l) => l.seq)).toEqual(viewer.lines.map((_, i) => i));
    viewer.close();
  });

  it("answers garbage from a viewer with typed errors and keeps it subscribed", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "x", executor: "opus" },
    });
    const viewer = await rawSocket(`/parties/task/${created.body.task_id}`, mesh.orchestratorToken);
    viewer.socket.send("]]");
    viewer.socket.send(JSON.stringify({ type: "logs.subscribe", since_seq: -1 }));
    viewer.socket.send(JSON.stringify({ type: "logs.subscribe", since_seq: 0 }));
    await waitFor(
      "errors and lines",
      () => errorCodes(viewer.frames).length >= 2 && viewer.frames.some((f) => f.type === "log.lines"),
    );
    expect(errorCodes(viewer.frames)).toEqual(["bad_json", "bad_message"]);
    viewer.socket.close();
  });

  it("closes an agent of an unsupported protocol version with 4406 and answers garbage on the registry", async () => {
    const registry = await rawSocket("/parties/registry/main", mesh.agentToken);
    registry.socket.send("nope");
    registry.socket.send(JSON.stringify({ type: "agent.heartbeat", running: [] }));
    registry.socket.send(
      JSON.stringify({
        type: "agent.hello",
        protocol_version: 1,
        name: "bad name!",
        kind: "vm",
        tiers: ["sonnet"],
        capacity: 1,
        version: "x",
        running: [],
      }),
    );
    await waitFor("three errors", () => registry.frames.length >= 3);
    expect(errorCodes(registry.frames)).toEqual(["bad_json", "hello_required", "bad_message"]);
    registry.socket.send(
      JSON.stringify({
        type: "agent.hello",
        protocol_version: 99,
        name: "future",
        kind: "vm",
        tiers: ["sonnet"],
        capacity: 1,
        version: "x",
        running: [],
      }),
    );
    expect(await registry.closed).toBe(CloseCode.unsupportedVersion);
    expect(errorCodes(registry.frames)).toContain("unsupported_version");
    // The real agent is still registered and online.
    const { body } = await mesh.api<{ agents: Array<{ name: string; state: string }> }>("/api/agents");
    expect(body.agents).toContainEqual(expect.objectContaining({ name: "vm-bad-input", state: "online" }));
    expect(body.agents.map((a) => a.name)).not.toContain("future");
  });

  it("answers the budget socket's garbage with bad_json and any message with unknown_type (it takes none)", async () => {
    const budget = await rawSocket("/parties/budget/main", mesh.orchestratorToken);
    await waitFor("the snapshot", () => budget.frames.length >= 1 || null);
    budget.socket.send("{not json");
    budget.socket.send(JSON.stringify({ type: "budget.reserve" }));
    await waitFor("two errors", () => errorCodes(budget.frames).length >= 2 || null);
    expect(errorCodes(budget.frames)).toEqual(["bad_json", "unknown_type"]);
    budget.socket.close();
  });

  it("closes a socket to a task that does not exist with 4404", async () => {
    const ghost = await rawSocket("/parties/task/01J0000000000000000000GHST", mesh.orchestratorToken);
    expect(await ghost.closed).toBe(CloseCode.notFound);
    expect(errorCodes(ghost.frames)).toEqual(["not_found"]);
  });
});

describe("bad input on routes", () => {
  it.each([
    ["malformed JSON", { rawBody: "{" }, 400, "bad_json"],
    ["an unknown field", { body: { instruction: "x", colour: "red" } }, 400, "bad_request"],
    ["a wrong type", { body: { instruction: 5 } }, 400, "bad_request"],
    ["no instruction", { body: { cwd: "/tmp" } }, 400, "bad_request"],
    ["an unknown executor", { body: { instruction: "x", executor: "gpt-9" } }, 400, "bad_request"],
    ["a bad name", { body: { instruction: "x", name: "has spaces" } }, 400, "bad_request"],
    [
      "an oversized body",
      { rawBody: JSON.stringify({ instruction: "x".repeat(MAX_BODY_BYTES) }) },
      413,
      "message_too_large",
    ],
  ] as const)(
    "refuses %s on POST /api/tasks with a typed error and creates nothing",
    async (_name, init, status, code) => {
      const before = (await mesh.api<{ tasks: unknown[] }>("/api/tasks?limit=500")).body.tasks.length;
      const response = await mesh.api("/api/tasks", { method: "POST", ...init });
      expect(response.status).toBe(status);
      expect(response.body.error?.code).toBe(code);
      expect(response.body.error?.message.length).toBeGreaterThan(5);
      expect((await mesh.api<{ tasks: unknown[] }>("/api/tasks?limit=500")).body.tasks.length).toBe(before);
    },
  );

  it("refuses a link for a task that does not exist (404), by id or by name, and mints nothing", async () => {
    for (const task of ["01J0000000000000000000NONE", "no-such-task"]) {
      const response = await mesh.api("/api/links", { method: "POST", body: { task } });
      expect(response.status).toBe(404);
      expect(response.body.error?.code).toBe("not_found");
      expect(JSON.stringify(response.body)).not.toContain("token");
    }
  });

  it("names the bad field", async () => {
    const response = await mesh.api("/api/tasks", { method: "POST", body: { instruction: "x", colour: "red" } });
    expect(response.body.error?.message).toContain("colour");
  });

  it("answers unknown tasks, names and routes with 404 and a bad reference with 400", async () => {
    expect((await mesh.api("/api/tasks/01J0000000000000000000NONE")).status).toBe(404);
    expect((await mesh.api("/api/tasks/no-such-name")).status).toBe(404);
    expect((await mesh.api("/api/tasks/01J0000000000000000000NONE/logs")).status).toBe(404);
    expect((await mesh.api("/api/tasks/01J0000000000000000000NONE/cancel", { method: "POST" })).status).toBe(404);
    expect((await mesh.api("/api/nothing")).status).toBe(404);
    expect((await mesh.api("/api/tasks/bad%20ref")).status).toBe(400);
    expect((await mesh.api("/api/tasks?status=sleeping")).status).toBe(400);
  });
});
