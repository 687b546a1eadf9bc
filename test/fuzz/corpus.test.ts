// Replays every golden file of test/fuzz/corpus against the real server: each recorded answer, exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView } from "../../protocol/index.ts";
import { type Mesh, startMesh } from "../integration/mesh-harness.ts";
import { errorCodesOf, loadCorpus, replay, type Target, typesOf } from "./corpus-replay.ts";

let mesh: Mesh;
let target: Target;
const corpus = loadCorpus();

beforeAll(async () => {
  mesh = await startMesh();
  const task = await mesh.api<TaskView>("/api/tasks", {
    method: "POST",
    body: { instruction: "the corpus's task", executor: "opus" },
  });
  const link = await mesh.api<{ token: string }>("/api/links", { method: "POST", body: {} });
  target = {
    url: mesh.url,
    taskId: task.body.task_id,
    tokens: {
      orchestrator: mesh.orchestratorToken,
      agent: mesh.agentToken,
      viewer: link.body.token,
      wrong: "w".repeat(40),
    },
  };
});

afterAll(async () => {
  await mesh?.stop();
});

describe("the golden corpus", () => {
  it("has a folder for every wire, each with valid and invalid cases", () => {
    const wires = new Set(corpus.map((c) => c.wire));
    expect([...wires].sort()).toEqual([
      "api-agents",
      "api-audit",
      "api-links",
      "api-plan",
      "api-queue",
      "api-tasks",
      "budget-socket",
      "directory-socket",
      "fleet-feed-socket",
      "health",
      "mcp",
      "registry-socket",
      "task-viewer-socket",
    ]);
  });

  it.each(corpus.map((c) => [`${c.wire}/${c.name}`, c] as const))("%s", async (_label, { entry }) => {
    const answer = await replay(target, entry);
    if (entry.kind === "http" || entry.kind === "mcp") {
      if (answer.kind !== "http") throw new Error("expected an HTTP answer");
      expect(answer.status).toBe(entry.expect.status);
      if (entry.kind === "http" && entry.expect.code !== undefined)
        expect((answer.body as { error?: { code?: string } }).error?.code).toBe(entry.expect.code);
      if (entry.kind === "mcp" && entry.expect.rpc !== undefined)
        expect((answer.body as { error?: { code?: number } }).error?.code).toBe(entry.expect.rpc);
      return;
    }
    if (answer.kind !== "socket") throw new Error("expected a socket answer");
    if (entry.expect.upgrade !== undefined) return expect(answer.upgrade).toBe(entry.expect.upgrade);
    expect(answer.upgrade).toBeNull();
    if (entry.expect.errors !== undefined) expect(errorCodesOf(answer)).toEqual(entry.expect.errors);
    if (entry.expect.types !== undefined) expect(typesOf(answer)).toEqual(expect.arrayContaining(entry.expect.types));
    if (entry.expect.close !== undefined) expect(answer.close).toBe(entry.expect.close);
  });
});
