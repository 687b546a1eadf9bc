// Limits on abuse (docs/agent-identity.md) on the real server: a flood from one credential gets 429 with
// Retry-After while another credential's dispatch goes on; a socket that floods is closed with 1008.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { TaskView } from "../../protocol/index.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;

beforeAll(async () => {
  mesh = await startMesh({ MESH_RATE_PER_S: "50", MESH_RATE_BURST: "100" });
  agent = await startAgent(mesh, "vm-limits", {
    executors: {
      sonnet: { command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "20"], format: "text", timeout_s: 30 },
    },
  });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
});

describe("limits on abuse", () => {
  it("answers a flood of 5,000 requests from one credential with 429 and Retry-After, while another credential's dispatch still works", async () => {
    const link = await mesh.api<{ token: string }>("/api/links", { method: "POST", body: {} });
    const flooder = link.body.token;
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    let code: string | undefined;
    let sent = 0;
    const flood = async (): Promise<void> => {
      while (sent < 5000) {
        sent += 1;
        const response = await fetch(`${mesh.url}/api/tasks`, { headers: { authorization: `Bearer ${flooder}` } });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 429 && retryAfter === null) {
          retryAfter = response.headers.get("retry-after");
          code = ((await response.json()) as { error: { code: string } }).error.code;
        } else await response.body?.cancel();
      }
    };
    const flooding = Promise.all(Array.from({ length: 32 }, flood));
    // While the flood runs: the orchestrator's task is created, dispatched and finished.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "during the flood", executor: "sonnet" },
    });
    expect(created.status).toBe(201);
    const done = await mesh.finished(created.body.task_id, 30_000);
    expect(done.status).toBe("succeeded");
    await flooding;
    expect(sent).toBeGreaterThanOrEqual(5000);
    expect(statuses.get(429) ?? 0).toBeGreaterThan(4000);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(code).toBe("rate_limited");
    // The orchestrator's own credential was never limited by it.
    expect((await mesh.api("/api/tasks")).status).toBe(200);
  });

  it("closes a socket that floods with 1008", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "watched", executor: "sonnet" },
    });
    const socket = new WebSocket(
      `ws://127.0.0.1:${mesh.port}/parties/task/${created.body.task_id}?token=${encodeURIComponent(mesh.orchestratorToken)}`,
    );
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const closed = new Promise<number>((resolve) => socket.once("close", (closeCode) => resolve(closeCode)));
    for (let i = 0; i < 500; i++) socket.send(JSON.stringify({ type: "logs.subscribe", since_seq: 0 }));
    expect(await closed).toBe(1008);
  });
});
