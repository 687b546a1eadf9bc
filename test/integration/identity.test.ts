// Agent identity (docs/agent-identity.md) on the real server and real agents: enrollment, a name bound to
// its credential, attempt tokens, revocation, forgetting, and the audit log of all of it.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { mintAttemptToken } from "../../party/auth/attempt-token.ts";
import { type AgentRecord, type AuditRecord, CloseCode, type TaskView } from "../../protocol/index.ts";
import {
  FIXTURES,
  type Mesh,
  startAgent,
  startMesh,
  startRefusedAgent,
  type TestAgent,
  upgradeStatus,
  waitFor,
} from "./mesh-harness.ts";

const HEARTBEAT_S = 1;
const NEXT_TOKEN = "n".repeat(24) + Math.random().toString(36).slice(2).padEnd(12, "0");
const OLD_TOKEN = "o".repeat(24) + Math.random().toString(36).slice(2).padEnd(12, "0");
let mesh: Mesh;
const agents: TestAgent[] = [];
// 60 lines, a pause of 100 ms after each: about 6 s of work, long enough to be interfered with.
const slow = {
  command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "60", "0", "1", "100"],
  format: "text" as const,
  timeout_s: 60,
};

/** A scripted peer on a room's socket: every frame it gets, and how it closed. */
function peer(
  path: string,
  token: string,
): { socket: WebSocket; frames: Array<Record<string, unknown>>; opened: Promise<void>; closed: Promise<number> } {
  const socket = new WebSocket(`ws://127.0.0.1:${mesh.port}${path}?token=${encodeURIComponent(token)}`);
  const frames: Array<Record<string, unknown>> = [];
  socket.on("message", (raw) => frames.push(JSON.parse(raw.toString()) as Record<string, unknown>));
  return {
    socket,
    frames,
    opened: new Promise((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    }),
    closed: new Promise((resolve) => socket.once("close", (code) => resolve(code))),
  };
}

const hello = (name: string) =>
  JSON.stringify({
    type: "agent.hello",
    protocol_version: 1,
    name,
    kind: "vm",
    tiers: ["sonnet"],
    capacity: 1,
    version: "test",
    running: [],
  });
const listed = async (name: string): Promise<AgentRecord | undefined> =>
  (await mesh.api<{ agents: AgentRecord[] }>("/api/agents")).body.agents.find((a) => a.name === name);

beforeAll(async () => {
  mesh = await startMesh({
    MESH_HEARTBEAT_S: String(HEARTBEAT_S),
    MESH_ENROLLMENT_TOKENS: JSON.stringify([
      { name: "fleet-next", token: NEXT_TOKEN, expires: new Date(Date.now() + 3600_000).toISOString() },
      { name: "fleet-old", token: OLD_TOKEN, expires: "2020-01-01T00:00:00Z" },
    ]),
  });
  agents.push(await startAgent(mesh, "vm-real", { executors: { sonnet: slow } }));
});

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
});

describe("agent identity", () => {
  it("refuses the forged-result sequence: the real attempt finishes with its own output", async () => {
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "slow", executor: "sonnet", agent: "vm-real" },
    });
    const taskId = created.body.task_id;
    await waitFor(
      "the attempt to run",
      async () => (await mesh.task(taskId)).attempts[0]?.status === "running" || null,
    );
    // The enrollment token opens no task room, and neither does another agent's own credential.
    expect(
      await upgradeStatus(
        `ws://127.0.0.1:${mesh.port}/parties/task/${taskId}?token=${encodeURIComponent(mesh.agentToken)}`,
      ),
    ).toBe(403);
    const evil = peer("/parties/registry/main", mesh.agentToken);
    await evil.opened;
    evil.socket.send(hello("vm-evil"));
    const enrolled = await waitFor("vm-evil's credential", () => evil.frames.find((f) => f.type === "agent.enrolled"));
    const evilCredential = String(enrolled.credential);
    expect(
      await upgradeStatus(
        `ws://127.0.0.1:${mesh.port}/parties/task/${taskId}?token=${encodeURIComponent(evilCredential)}`,
      ),
    ).toBe(403);
    // Registering under the running agent's name with the enrollment token: name_taken, closed.
    const impostor = peer("/parties/registry/main", mesh.agentToken);
    await impostor.opened;
    impostor.socket.send(hello("vm-real"));
    expect(await impostor.closed).toBe(CloseCode.forbidden);
    expect(impostor.frames).toContainEqual(expect.objectContaining({ type: "error", code: "name_taken" }));
    // With vm-evil's credential under vm-real's name: unauthorized.
    const borrowed = peer("/parties/registry/main", evilCredential);
    await borrowed.opened;
    borrowed.socket.send(hello("vm-real"));
    expect(await borrowed.closed).toBe(CloseCode.forbidden);
    expect(borrowed.frames).toContainEqual(expect.objectContaining({ type: "error", code: "unauthorized" }));
    evil.socket.close();
    const done = await mesh.finished(taskId, 60_000);
    expect(done.status).toBe("succeeded");
    expect(done.attempts.map((a) => [a.agent, a.status])).toEqual([["vm-real", "succeeded"]]);
    expect(JSON.stringify(done)).not.toContain("FORGED");
    expect((await listed("vm-real"))?.state).toBe("online");
  });

  it("keeps the credential 0600 in the agent's state directory, re-registers with it after a restart, and refuses a second process with only the enrollment token", async () => {
    const real = agents[0];
    if (real === undefined) throw new Error("no agent");
    const file = join(`${mesh.persistDir}-agents`, "vm-real", "credential.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, "utf8")) as { credential: string; name: string };
    expect(stored.name).toBe("vm-real");
    expect(stored.credential).toMatch(/^mesh-agent:vm-real:/);
    await real.stop();
    agents.splice(0, 1, await startAgent(mesh, "vm-real", { executors: { sonnet: slow } }));
    expect((await listed("vm-real"))?.state).toBe("online");
    // Another machine (its own state directory) with the enrollment token and the same name.
    const second = await startRefusedAgent(
      mesh,
      "vm-real",
      { executors: { sonnet: slow } },
      `${mesh.persistDir}-elsewhere`,
    );
    expect(second.code).toBe(1);
    expect(second.output).toMatch(
      /the mesh refused this agent \(name_taken\): the name vm-real belongs to another agent's credential; pick another --name/,
    );
    expect((await listed("vm-real"))?.state).toBe("online");
    // The mesh never lists the credential or its hash.
    expect(JSON.stringify(await mesh.api("/api/agents"))).not.toContain(stored.credential.split(":")[2]);
  });

  it("revokes an agent within one heartbeat: its attempt is retried elsewhere, its late result and its credential are refused; DELETE lets the name enroll again", async () => {
    agents.push(await startAgent(mesh, "vm-spare", { executors: { sonnet: slow } }));
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "slow", executor: "sonnet", agent: "vm" },
    });
    const taskId = created.body.task_id;
    const running = await waitFor("the attempt to run", async () => {
      const task = await mesh.task(taskId);
      return task.attempts[0]?.status === "running" ? task : null;
    });
    const victimName = running.attempts[0]?.agent ?? "";
    const victim = agents.find((a) => a.name === victimName);
    const revokedAt = Date.now();
    const revoked = await mesh.api(`/api/agents/${victimName}/revoke`, { method: "POST" });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ name: victimName, state: "revoked", requeued: 1 });
    await waitFor(
      "the revoked agent to stop",
      () => victim?.process.exitCode !== null || null,
      HEARTBEAT_S * 1000 + 2000,
      20,
    );
    expect(Date.now() - revokedAt).toBeLessThan(HEARTBEAT_S * 1000 + 2000);
    expect(victim?.output.join("\n")).toMatch(/agent_revoked/);
    expect((await listed(victimName))?.state).toBe("revoked");
    const done = await mesh.finished(taskId, 60_000);
    expect(done.status).toBe("succeeded");
    expect(done.attempts.map((a) => [a.n, a.agent, a.status, a.failure_class ?? null])).toEqual([
      [1, victimName, "failed", "agent_lost"],
      [2, victimName === "vm-real" ? "vm-spare" : "vm-real", "succeeded", null],
    ]);
    // Its late result (over its attempt's own token) is refused: the attempt is over.
    const token = await mintAttemptToken({ taskId, attempt: 1, agent: victimName }, mesh.orchestratorToken, Date.now());
    const late = peer(`/parties/task/${taskId}`, token);
    await late.opened;
    late.socket.send(
      JSON.stringify({ type: "attempt.hello", protocol_version: 1, agent: victimName, attempt: 1, executor: "node" }),
    );
    expect(await late.closed).toBe(CloseCode.notAssigned);
    expect((await mesh.task(taskId)).attempts[0]?.status).toBe("failed");
    // Started again, it is refused for good; forgotten, its name enrolls again.
    const again = await startRefusedAgent(
      mesh,
      victimName,
      { executors: { sonnet: slow } },
      join(`${mesh.persistDir}-agents`, victimName),
    );
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/agent_revoked/);
    expect((await mesh.api(`/api/agents/${victimName}`, { method: "DELETE" })).body).toEqual({
      name: victimName,
      state: "forgotten",
      requeued: 0,
    });
    expect((await mesh.api("/api/agents/nobody/revoke", { method: "POST" })).status).toBe(404);
    agents.push(
      await startAgent(
        mesh,
        victimName,
        { executors: { sonnet: slow } },
        { args: ["--state-dir", `${mesh.persistDir}-reenrolled`] },
      ),
    );
    expect((await listed(victimName))?.state).toBe("online");
  });

  it("enrolls with any current named enrollment token, and refuses an expired one: a fleet rotates without downtime", async () => {
    expect(await upgradeStatus(`ws://127.0.0.1:${mesh.port}/parties/registry/main?token=${OLD_TOKEN}`)).toBe(401);
    const rotated = peer("/parties/registry/main", NEXT_TOKEN);
    await rotated.opened;
    rotated.socket.send(hello("vm-rotated"));
    await waitFor("vm-rotated enrolled", () => rotated.frames.some((f) => f.type === "agent.welcome") || null);
    expect(rotated.frames.map((f) => f.type)).toEqual(["agent.enrolled", "agent.welcome"]);
    expect((await listed("vm-rotated"))?.enrolled_by).toBe("fleet-next");
    expect((await listed("vm-real"))?.enrolled_by).toBe("default");
    rotated.socket.close();
  });

  it("records every state-changing call once in the audit log, with no secret in any record", async () => {
    const since = Date.now() - 120_000;
    const link = await mesh.api<{ token: string }>("/api/links", { method: "POST", body: {} });
    const { body } = await waitFor("the link in the audit log", async () => {
      const read = await mesh.api<{ records: AuditRecord[] }>(`/api/audit?since=${since}`);
      return read.body.records.some((r) => r.action === "link.mint") ? read : null;
    });
    const actions = body.records.map((r) => `${r.action} ${r.credential} ${r.outcome}`);
    expect(actions.filter((a) => a.startsWith("task.create orchestrator ok"))).toHaveLength(2);
    expect(actions).toContainEqual("agent.enroll enrollment:default enrolled vm-evil");
    expect(actions).toContainEqual("agent.enroll enrollment:fleet-next enrolled vm-rotated");
    expect(actions).toContainEqual("agent.enroll enrollment:default refused vm-real: name_taken");
    expect(actions).toContainEqual("agent.hello agent:vm-evil refused vm-real: unauthorized");
    expect(actions.filter((a) => a.startsWith("agent.revoke orchestrator ok"))).toHaveLength(1);
    expect(actions.filter((a) => a.startsWith("agent.revoke orchestrator not_found"))).toHaveLength(1);
    expect(actions.filter((a) => a.startsWith("agent.forget orchestrator ok"))).toHaveLength(1);
    expect(actions.filter((a) => a.startsWith("link.mint orchestrator ok"))).toHaveLength(1);
    const text = JSON.stringify(body);
    for (const secret of [mesh.orchestratorToken, mesh.agentToken, NEXT_TOKEN, link.body.token])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/mesh-agent:[^"]*:/);
    expect((await mesh.api("/api/audit?since=x")).status).toBe(400);
    expect((await mesh.api("/api/audit", { token: link.body.token })).status).toBe(403);
  });
});
