// Every route and socket needs the right credential; a refused call changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView } from "../../protocol/index.ts";
import { type Mesh, startMesh, TaskViewer, upgradeStatus } from "./mesh-harness.ts";

let mesh: Mesh;
let taskA: TaskView;
let taskB: TaskView;

beforeAll(async () => {
  mesh = await startMesh();
  taskA = (await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "a" } })).body;
  taskB = (await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { instruction: "b" } })).body;
});

afterAll(async () => {
  await mesh?.stop();
});

const taskCount = async (): Promise<number> =>
  (await mesh.api<{ tasks: unknown[] }>("/api/tasks?limit=500")).body.tasks.length;

describe("HTTP auth", () => {
  it("answers /health without a credential and with no secret in it", async () => {
    const health = await mesh.api("/health", { token: null });
    expect(health.status).toBe(200);
    expect(JSON.stringify(health.body)).not.toContain(mesh.orchestratorToken);
    expect(JSON.stringify(health.body)).not.toContain(mesh.agentToken);
  });

  it.each([
    ["no token", null, 401, "unauthorized"],
    ["a wrong token", "not-the-token-at-all-0000", 401, "unauthorized"],
    ["the agent token", "AGENT", 403, "forbidden"],
  ] as const)("refuses %s on every orchestrator route and creates nothing", async (_name, token, status, code) => {
    const before = await taskCount();
    const presented = token === "AGENT" ? mesh.agentToken : token;
    const calls: Array<[string, string, unknown?]> = [
      ["POST", "/api/tasks", { instruction: "should not exist" }],
      ["GET", "/api/tasks"],
      ["GET", `/api/tasks/${taskA.task_id}`],
      ["GET", `/api/tasks/${taskA.task_id}/logs`],
      ["POST", `/api/tasks/${taskA.task_id}/cancel`],
      ["GET", "/api/agents"],
      ["POST", "/api/links", {}],
    ];
    for (const [method, path, body] of calls) {
      const response = await mesh.api(path, { method, body, token: presented });
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(response.body.error?.code).toBe(code);
    }
    expect(await taskCount()).toBe(before);
    expect((await mesh.task(taskA.task_id)).status).toBe("queued");
  });

  it("refuses a viewer link on the HTTP API", async () => {
    const link = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: { task: taskA.task_id } }))
      .body.token;
    expect((await mesh.api(`/api/tasks/${taskA.task_id}`, { token: link })).status).toBe(403);
  });

  it("refuses the rooms' own HTTP endpoints without the orchestrator token", async () => {
    expect((await mesh.api(`/parties/task/${taskA.task_id}`, { token: null })).status).toBe(401);
    expect((await mesh.api(`/parties/task/${taskA.task_id}`, { token: mesh.agentToken })).status).toBe(403);
    expect(
      (
        await mesh.api("/parties/registry/main", {
          method: "POST",
          body: { type: "dispatch.withdraw", task_id: taskA.task_id },
          token: mesh.agentToken,
        })
      ).status,
    ).toBe(403);
    expect((await mesh.api("/parties/directory/main", { token: null })).status).toBe(401);
    // Plain HTTP never takes a credential from the URL (it would land in logs): the same token as ?token= is refused.
    expect(
      (
        await mesh.api(`/parties/task/${taskA.task_id}?token=${encodeURIComponent(mesh.orchestratorToken)}`, {
          token: null,
        })
      ).status,
    ).toBe(401);
    expect((await mesh.api(`/parties/task/${taskA.task_id}`)).status).toBe(200);
  });
});

describe("socket auth", () => {
  const ws = (path: string, token?: string): string =>
    `ws://127.0.0.1:${mesh.port}${path}${token === undefined ? "" : `?token=${encodeURIComponent(token)}`}`;

  it("refuses an upgrade with no token or a wrong one (401) before it happens", async () => {
    expect(await upgradeStatus(ws(`/parties/task/${taskA.task_id}`))).toBe(401);
    expect(await upgradeStatus(ws(`/parties/task/${taskA.task_id}`, "wrong-token-000000000000"))).toBe(401);
    expect(await upgradeStatus(ws("/parties/registry/main"))).toBe(401);
  });

  it("lets a task's watch link open that task only, read-only, and not the registry", async () => {
    const link = decodeURIComponent(/token=([^&]+)/.exec(taskA.watch_url)?.[1] ?? "");
    expect(await upgradeStatus(ws(`/parties/task/${taskA.task_id}`, link))).toBe(101);
    expect(await upgradeStatus(ws(`/parties/task/${taskB.task_id}`, link))).toBe(403);
    expect(await upgradeStatus(ws("/parties/registry/main", link))).toBe(403);
    expect(await upgradeStatus(ws("/parties/fleet/main", link))).toBe(403);
    expect(await upgradeStatus(ws("/parties/directory/main", link))).toBe(403);
    const viewer = await TaskViewer.open(mesh, taskA.task_id, link);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(viewer.errors).toEqual([]);
    expect(viewer.task?.task_id).toBe(taskA.task_id);
    // A viewer cannot act: an agent's message from it is an unknown type, and nothing changes.
    viewer.socket.send(
      JSON.stringify({ type: "attempt.exit", attempt: 1, line_count: 0, exit_code: 0, signal: null, duration_ms: 1 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(viewer.errors.join()).toContain("unknown_type");
    expect((await mesh.task(taskA.task_id)).status).toBe("queued");
    viewer.close();
  });

  it("lets a dashboard link open any task and the fleet feed, but not the registry, which serves agents only", async () => {
    const link = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: {} })).body.token;
    expect(await upgradeStatus(ws(`/parties/task/${taskB.task_id}`, link))).toBe(101);
    expect(await upgradeStatus(ws("/parties/fleet/main", link))).toBe(101);
    // The task list.
    expect(await upgradeStatus(ws("/parties/directory/main", link))).toBe(101);
    expect(await upgradeStatus(ws("/parties/directory/main", mesh.agentToken))).toBe(403);
    expect(await upgradeStatus(ws("/parties/registry/main", link))).toBe(403);
    expect(await upgradeStatus(ws("/parties/registry/main", mesh.orchestratorToken))).toBe(403);
    expect(await upgradeStatus(ws("/parties/fleet/main", mesh.agentToken))).toBe(403);
  });

  it("refuses an expired link", async () => {
    const link = (
      await mesh.api<{ token: string }>("/api/links", { method: "POST", body: { task: taskA.task_id, ttl_s: 1 } })
    ).body.token;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await upgradeStatus(ws(`/parties/task/${taskA.task_id}`, link))).toBe(401);
  });

  it("refuses the edge's own room as a socket; the directory's task list needs a credential", async () => {
    expect(await upgradeStatus(ws("/parties/main/x", mesh.orchestratorToken))).toBe(404);
    expect(await upgradeStatus(ws("/parties/directory/main"))).toBe(401);
    expect(await upgradeStatus(ws("/parties/directory/main", mesh.orchestratorToken))).toBe(101);
  });
});
