import { describe, expect, it } from "vitest";
import {
  decideRegistry,
  emptyRegistry,
  listAgents,
  type RegistryContext,
  type RegistryEvent,
  type RegistryState,
  restoredRegistry,
  servedTiers,
} from "../../party/agent-registry/registry-actor.ts";
import { type AgentHello, CloseCode, type DispatchRequest, type ExecutorTier } from "../../protocol/index.ts";

const HEARTBEAT_MS = 5000;
const at = (now: number, startedAt = 0): RegistryContext => ({
  now,
  heartbeatMs: HEARTBEAT_MS,
  idleFlagS: 300,
  startedAt,
});

const hello = (
  name: string,
  tiers: ExecutorTier[] = ["sonnet"],
  overrides: Partial<AgentHello> = {},
): RegistryEvent => ({
  type: "hello-received",
  hello: {
    type: "agent.hello",
    protocol_version: 1,
    name,
    kind: "vm",
    tiers,
    capacity: 1,
    version: "1",
    running: [],
    ...overrides,
  },
  connectionId: `conn-${name}`,
  identity: {
    via: "enrollment",
    tokenName: "default",
    credential: `mesh-agent:${name}:secret`,
    credentialHash: `hash-${name}`,
  },
});
/** The same hello as the agent's own credential would bring it once enrolled (docs/agent-identity.md). */
const again = (
  name: string,
  tiers: ExecutorTier[] = ["sonnet"],
  overrides: Partial<AgentHello> = {},
): RegistryEvent => ({
  type: "hello-received",
  hello: {
    type: "agent.hello",
    protocol_version: 1,
    name,
    kind: "vm",
    tiers,
    capacity: 1,
    version: "1",
    running: [],
    ...overrides,
  },
  connectionId: `conn-${name}`,
  identity: { via: "credential", agent: name, credentialHash: `hash-${name}` },
});
const request = (
  taskId: string,
  tier: ExecutorTier = "sonnet",
  overrides: Partial<DispatchRequest> = {},
): DispatchRequest => ({
  type: "dispatch.request",
  assign: { type: "task.assign", task_id: taskId, attempt: 1, tier, prompt: "do it" },
  selector: { by: "any" },
  requested_at: 0,
  ...overrides,
});

function drive(
  events: Array<[RegistryEvent, number]>,
  state: RegistryState = emptyRegistry(),
): { state: RegistryState; last: ReturnType<typeof decideRegistry> } {
  let last = { state, effects: [] } as ReturnType<typeof decideRegistry>;
  for (const [event, now] of events) last = decideRegistry(last.state, event, at(now));
  return { state: last.state, last };
}

describe("the registry actor", () => {
  it("welcomes an agent and hands it a waiting request, persisting the assignment before sending it", () => {
    const { state, last } = drive([
      [{ type: "dispatch-requested", request: request("T1") }, 0],
      [hello("vm-1"), 10],
    ]);
    const sent = last.effects.findIndex((e) => e.kind === "assign");
    const stored = last.effects.findIndex(
      (e, i) => i < sent && e.kind === "persist" && e.queue && e.agents.includes("vm-1"),
    );
    expect(last.effects[sent]).toEqual({
      kind: "assign",
      connectionId: "conn-vm-1",
      agent: "vm-1",
      message: request("T1").assign,
    });
    expect(stored).toBeGreaterThanOrEqual(0);
    expect(state.pending).toEqual([]);
    expect(state.agents.get("vm-1")?.running).toEqual([{ task_id: "T1", attempt: 1 }]);
  });

  it("sends the task room's task.assign as it came, at once when an agent can take it", () => {
    const { last } = drive([
      [hello("vm-1"), 0],
      [{ type: "dispatch-requested", request: request("T1") }, 10],
    ]);
    expect(last.reply).toEqual({ queued: false, agent: "vm-1" });
    expect(last.effects.map((e) => e.kind)).toEqual(["persist", "assign", "notify-dashboards"]);
  });

  it("queues a request no agent serves, and does not queue the same attempt twice", () => {
    const { state, last } = drive([
      [hello("vm-1", ["opus"]), 0],
      [{ type: "dispatch-requested", request: request("T1", "sonnet") }, 10],
      [{ type: "dispatch-requested", request: request("T1", "sonnet") }, 20],
    ]);
    expect(last.reply).toEqual({ queued: true });
    expect(last.effects).toEqual([]);
    expect(state.pending).toHaveLength(1);
  });

  it("picks among the tier's agents only, the least loaded first, and honours exclusions and full slots", () => {
    const { state } = drive([
      [hello("a", ["sonnet"], { capacity: 2 }), 0],
      [hello("b", ["sonnet"], { capacity: 2 }), 0],
      [hello("c", ["opus"]), 0],
      [{ type: "dispatch-requested", request: request("T1") }, 1],
      [{ type: "dispatch-requested", request: request("T2") }, 2],
      [{ type: "dispatch-requested", request: request("T3", "sonnet", { exclude_agents: ["a"] }) }, 3],
    ]);
    expect(state.agents.get("a")?.running.map((r) => r.task_id)).toEqual(["T1"]);
    expect(state.agents.get("b")?.running.map((r) => r.task_id)).toEqual(["T2", "T3"]);
    expect(state.tiers.serving("opus")).toEqual(["c"]);
  });

  it("answers a heartbeat with an ack and keeps the agent online", () => {
    const { state, last } = drive([
      [hello("vm-1"), 0],
      [{ type: "heartbeat-received", agent: "vm-1", running: [] }, 4000],
    ]);
    expect(last.effects[0]).toEqual({
      kind: "send",
      connectionId: "conn-vm-1",
      message: { type: "heartbeat.ack", server_time: 4000 },
    });
    expect(listAgents(state, at(9000))[0]?.state).toBe("online");
  });

  it("gives up an agent silent for three beats: closes it, loses its attempts, and queues notices for their rooms", () => {
    const { state, last } = drive([
      [hello("vm-1"), 0],
      [{ type: "dispatch-requested", request: request("T1") }, 1],
      [{ type: "watchdog-ticked" }, 3 * HEARTBEAT_MS],
      [{ type: "watchdog-ticked" }, 3 * HEARTBEAT_MS + 1],
    ]);
    expect(last.effects).toContainEqual({
      kind: "close",
      connectionId: "conn-vm-1",
      code: CloseCode.heartbeatTimeout,
      reason: "heartbeat timeout",
    });
    expect(state.lostNotices).toEqual([expect.objectContaining({ task_id: "T1", attempt: 1, agent: "vm-1" })]);
    expect(listAgents(state, at(20_000))[0]?.state).toBe("lost");
    expect(state.assigned).toEqual({});
  });

  it("counts beats from its own start after a restart, so agents get time to come back", () => {
    const restored = restoredRegistry(
      [
        {
          name: "vm-1",
          kind: "vm",
          tiers: ["sonnet"],
          capacity: 1,
          version: "1",
          registered_at: 0,
          last_heartbeat: 0,
          running: [{ task_id: "T1", attempt: 1 }],
        },
      ],
      [],
      {},
      [],
    );
    const early = decideRegistry(restored, { type: "watchdog-ticked" }, at(60_000, 55_000));
    expect(early.state.lostNotices).toEqual([]);
    const late = decideRegistry(restored, { type: "watchdog-ticked" }, at(71_000, 55_000));
    expect(late.state.lostNotices).toHaveLength(1);
  });

  it("hands an assignment out again when its agent comes back without it", () => {
    const { state } = drive([
      [hello("vm-1"), 0],
      [{ type: "dispatch-requested", request: request("T1") }, 1],
      [{ type: "disconnected", agent: "vm-1", connectionId: "conn-vm-1" }, 2],
      [again("vm-1"), 3],
    ]);
    expect(state.agents.get("vm-1")?.running).toEqual([{ task_id: "T1", attempt: 1 }]);
    expect(Object.keys(state.assigned)).toEqual(["T1:1"]);
  });

  it("frees the slot on a release, tells the task room of a possible loss, and serves the queue", () => {
    const { state, last } = drive([
      [hello("vm-1"), 0],
      [{ type: "dispatch-requested", request: request("T1") }, 1],
      [{ type: "dispatch-requested", request: request("T2") }, 2],
      [{ type: "released", agent: "vm-1", taskId: "T1", attempt: 1 }, 3],
    ]);
    expect(state.agents.get("vm-1")?.running.map((r) => r.task_id)).toEqual(["T2"]);
    expect(state.lostNotices).toEqual([expect.objectContaining({ task_id: "T1" })]);
    expect(last.effects).toContainEqual({ kind: "deliver-notices" });
    const delivered = decideRegistry(state, { type: "notices-delivered", notices: state.lostNotices }, at(4));
    expect(delivered.state.lostNotices).toEqual([]);
  });

  it("closes the older connection when an agent connects again elsewhere", () => {
    const first = drive([[hello("vm-1"), 0]]).state;
    const second = decideRegistry(first, { ...again("vm-1"), connectionId: "conn-2" } as RegistryEvent, at(1));
    expect(second.effects[0]).toEqual({
      kind: "close",
      connectionId: "conn-vm-1",
      code: CloseCode.replaced,
      reason: "agent vm-1 connected again elsewhere",
    });
    expect(second.state.connected.get("vm-1")).toBe("conn-2");
  });

  it("withdraws a cancelled task's waiting requests", () => {
    const { state } = drive([
      [{ type: "dispatch-requested", request: request("T1") }, 0],
      [{ type: "dispatch-withdrawn", taskId: "T1" }, 1],
    ]);
    expect(state.pending).toEqual([]);
  });

  it("reports served tiers of online agents the selector allows", () => {
    const { state } = drive([
      [hello("a", ["sonnet"]), 0],
      [hello("b", ["opus"], { kind: "mac" }), 0],
    ]);
    expect(servedTiers(state, at(1), null, null).sort()).toEqual(["opus", "sonnet"]);
    expect(servedTiers(state, at(1), null, "mac")).toEqual(["opus"]);
    expect(servedTiers(state, at(1), "a", null)).toEqual(["sonnet"]);
  });

  describe("agent identity", () => {
    const refusal = (effects: ReturnType<typeof decideRegistry>["effects"]) =>
      effects.flatMap((e) => (e.kind === "send" && e.message.type === "error" ? [e.message.code] : []));

    it("enrolls a new name: stores only the credential's hash, sends the credential once, before the welcome", () => {
      const { state, last } = drive([[hello("vm-1"), 0]]);
      const kinds = last.effects.map((e) => (e.kind === "send" ? e.message.type : e.kind));
      expect(kinds.indexOf("persist")).toBeLessThan(kinds.indexOf("agent.enrolled"));
      expect(kinds.indexOf("agent.enrolled")).toBeLessThan(kinds.indexOf("agent.welcome"));
      expect(last.effects).toContainEqual({
        kind: "send",
        connectionId: "conn-vm-1",
        message: { type: "agent.enrolled", name: "vm-1", credential: "mesh-agent:vm-1:secret" },
      });
      expect(state.agents.get("vm-1")).toMatchObject({ credential_sha256: "hash-vm-1", enrolled_by: "default" });
      expect(JSON.stringify([...state.agents.values()])).not.toContain("mesh-agent:vm-1:secret");
      expect(JSON.stringify(listAgents(state, at(1)))).not.toContain("hash-vm-1");
      expect(last.effects).toContainEqual({
        kind: "audit",
        action: "agent.enroll",
        credential: "enrollment:default",
        outcome: "enrolled vm-1",
      });
    });

    it("refuses a taken name to an enrollment token, a wrong credential, another agent's credential and an unknown one", () => {
      const { state } = drive([[hello("vm-1"), 0]]);
      const taken = decideRegistry(state, { ...hello("vm-1"), connectionId: "intruder" } as RegistryEvent, at(1));
      expect(refusal(taken.effects)).toEqual(["name_taken"]);
      expect(taken.effects).toContainEqual({
        kind: "close",
        connectionId: "intruder",
        code: CloseCode.forbidden,
        reason: "name_taken",
      });
      expect(taken.state.connected.get("vm-1")).toBe("conn-vm-1");
      const wrong = decideRegistry(
        state,
        {
          ...again("vm-1"),
          connectionId: "x",
          identity: { via: "credential", agent: "vm-1", credentialHash: "other" },
        } as RegistryEvent,
        at(1),
      );
      expect(refusal(wrong.effects)).toEqual(["unauthorized"]);
      const borrowed = decideRegistry(
        state,
        {
          ...again("vm-2"),
          identity: { via: "credential", agent: "vm-1", credentialHash: "hash-vm-1" },
        } as RegistryEvent,
        at(1),
      );
      expect(refusal(borrowed.effects)).toEqual(["unauthorized"]);
      const unknown = decideRegistry(state, again("vm-9"), at(1));
      expect(refusal(unknown.effects)).toEqual(["credential_unknown"]);
      expect(unknown.effects).toContainEqual(
        expect.objectContaining({ kind: "close", code: CloseCode.credentialUnknown }),
      );
      expect(
        decideRegistry(state, again("vm-1"), at(1)).effects.some(
          (e) => e.kind === "send" && e.message.type === "agent.welcome",
        ),
      ).toBe(true);
    });

    it("revokes an agent: closes it, loses its attempts for their rooms, refuses it after; forgetting frees the name", () => {
      const { state } = drive([
        [hello("vm-1"), 0],
        [{ type: "dispatch-requested", request: request("T1") }, 1],
      ]);
      const revoked = decideRegistry(state, { type: "revoke-requested", name: "vm-1", forget: false }, at(2));
      expect(revoked.reply).toEqual({ name: "vm-1", state: "revoked", requeued: 1 });
      expect(revoked.effects).toContainEqual({
        kind: "close",
        connectionId: "conn-vm-1",
        code: CloseCode.forbidden,
        reason: "agent_revoked",
      });
      expect(revoked.state.lostNotices).toEqual([
        expect.objectContaining({ task_id: "T1", attempt: 1, agent: "vm-1" }),
      ]);
      expect(revoked.state.assigned).toEqual({});
      expect(listAgents(revoked.state, at(3))[0]?.state).toBe("revoked");
      expect(refusal(decideRegistry(revoked.state, again("vm-1"), at(3)).effects)).toEqual(["agent_revoked"]);
      expect(refusal(decideRegistry(revoked.state, hello("vm-1"), at(3)).effects)).toEqual(["agent_revoked"]);
      expect(
        decideRegistry(revoked.state, { type: "revoke-requested", name: "nobody", forget: false }, at(3)).reply,
      ).toEqual({ error: expect.objectContaining({ code: "not_found" }) });
      const forgotten = decideRegistry(revoked.state, { type: "revoke-requested", name: "vm-1", forget: true }, at(4));
      expect(forgotten.effects).toContainEqual({ kind: "forget", agents: ["vm-1"] });
      expect(forgotten.state.agents.has("vm-1")).toBe(false);
      expect(refusal(decideRegistry(forgotten.state, hello("vm-1"), at(5)).effects)).toEqual([]);
    });
  });
});

describe("an agent degraded for worktrees (docs/faults.md)", () => {
  const worktreeHello = (name: string, degraded?: string): RegistryEvent =>
    hello(name, ["sonnet"], {
      capacity: 2,
      capabilities: { worktree: true },
      ...(degraded === undefined ? {} : { degraded: { worktree: degraded } }),
    });
  const needsWorktree = (taskId: string): DispatchRequest => request(taskId, "sonnet", { needs: ["worktree"] });
  const beat = (agent: string, degraded?: string): RegistryEvent => ({
    type: "heartbeat-received",
    agent,
    running: [],
    ...(degraded === undefined ? {} : { degraded: { worktree: degraded } }),
  });
  const full = "the worktrees directory /x is full (ENOSPC: no space left on device); free space in /x";

  it("gets no task that needs a worktree while it says so, still gets one that does not, and gets the queued one once well again", () => {
    const { state, last } = drive([
      [worktreeHello("vm-1"), 0],
      [beat("vm-1", full), 10],
      [{ type: "dispatch-requested", request: needsWorktree("T1") }, 20],
    ]);
    expect(last.reply).toEqual({ queued: true });
    expect(listAgents(state, at(20))[0]?.degraded).toEqual({ worktree: full });
    const plain = drive([[{ type: "dispatch-requested", request: request("T2") }, 30]], state);
    expect(plain.last.reply).toEqual({ queued: false, agent: "vm-1" });
    const well = drive([[beat("vm-1"), 40]], plain.state);
    expect(well.last.effects).toContainEqual({
      kind: "assign",
      connectionId: "conn-vm-1",
      agent: "vm-1",
      message: needsWorktree("T1").assign,
    });
    expect(well.last.effects).toContainEqual({ kind: "persist", agents: ["vm-1"], queue: false, notices: false });
    expect(listAgents(well.state, at(40))[0]).not.toHaveProperty("degraded");
  });

  it("takes the degraded state from the hello, so an agent that starts degraded gets no worktree task before its first beat", () => {
    const { state, last } = drive([
      [{ type: "dispatch-requested", request: needsWorktree("T1") }, 0],
      [worktreeHello("vm-1", full), 10],
    ]);
    expect(last.effects.some((e) => e.kind === "assign")).toBe(false);
    expect(state.pending).toHaveLength(1);
    expect(listAgents(state, at(10))[0]?.degraded).toEqual({ worktree: full });
  });

  it("says why in no_agent when the queue timeout passes", () => {
    const { state } = drive([
      [worktreeHello("vm-1", full), 0],
      [{ type: "dispatch-requested", request: { ...needsWorktree("T1"), queue_timeout_s: 1 } }, 10],
      [{ type: "watchdog-ticked" }, 20],
      [beat("vm-1", full), 1500],
      [{ type: "watchdog-ticked" }, 1600],
    ]);
    expect(state.pending).toEqual([]);
    expect(state.lostNotices).toContainEqual(
      expect.objectContaining({
        type: "attempt.unserved",
        task_id: "T1",
        message: expect.stringContaining(`vm-1 cannot use worktree now: ${full}`),
      }),
    );
  });

  const pinned = (taskId: string, agent: string, overrides: Partial<DispatchRequest> = {}): DispatchRequest => ({
    ...needsWorktree(taskId),
    selector: { by: "name", name: agent },
    queue_timeout_s: 600,
    ...overrides,
  });

  it("refuses at once, as disk_full with the agent's reason, a worktree task pinned to it, told to the room only after it is stored", () => {
    const { state, last } = drive([
      [worktreeHello("vm-1", full), 0],
      [{ type: "dispatch-requested", request: pinned("T1", "vm-1") }, 10],
    ]);
    expect(state.pending).toEqual([]);
    expect(state.unserved).toEqual({});
    expect(last.reply).toEqual({ queued: false });
    expect(last.effects.some((e) => e.kind === "assign")).toBe(false);
    const notice = state.lostNotices.find((n) => n.task_id === "T1");
    expect(notice).toMatchObject({ type: "attempt.unserved", attempt: 1, failure_class: "disk_full" });
    expect(notice?.type === "attempt.unserved" ? notice.message : "").toContain(
      `agent vm-1 cannot make the attempt's worktree now: ${full}`,
    );
    expect(notice?.type === "attempt.unserved" ? notice.message : "").toContain('pinned to it (agent "vm-1")');
    const stored = last.effects.findIndex((e) => e.kind === "persist" && e.queue && e.notices);
    const told = last.effects.findIndex((e) => e.kind === "deliver-notices");
    expect(stored).toBeGreaterThanOrEqual(0);
    expect(told).toBeGreaterThan(stored);
  });

  it("refuses a pinned worktree task already queued (its agent busy) the moment the agent says it is degraded", () => {
    const busy = drive([
      [worktreeHello("vm-1"), 0],
      [{ type: "dispatch-requested", request: pinned("T1", "vm-1") }, 10],
      [{ type: "dispatch-requested", request: pinned("T2", "vm-1") }, 20],
      [{ type: "dispatch-requested", request: pinned("T3", "vm-1") }, 30],
    ]);
    expect(busy.state.pending.map((r) => r.assign.task_id)).toEqual(["T3"]);
    const degraded = drive([[beat("vm-1", full), 40]], busy.state);
    expect(degraded.state.pending).toEqual([]);
    expect(degraded.state.lostNotices).toContainEqual(
      expect.objectContaining({ type: "attempt.unserved", task_id: "T3", failure_class: "disk_full" }),
    );
    expect(degraded.last.effects).toContainEqual({ kind: "deliver-notices" });
  });

  it("still gives a degraded agent a pinned task that needs no worktree, and lets a pinned worktree task wait while its agent is offline", () => {
    const { state, last } = drive([
      [worktreeHello("vm-1", full), 0],
      [{ type: "dispatch-requested", request: { ...request("T1"), selector: { by: "name", name: "vm-1" } } }, 10],
    ]);
    expect(last.reply).toEqual({ queued: false, agent: "vm-1" });
    const gone = drive(
      [
        [{ type: "disconnected", agent: "vm-1", connectionId: "conn-vm-1" }, 20],
        [{ type: "dispatch-requested", request: pinned("T2", "vm-1") }, 30],
      ],
      state,
    );
    expect(gone.state.pending.map((r) => r.assign.task_id)).toEqual(["T2"]);
    expect(gone.state.lostNotices.some((n) => n.task_id === "T2")).toBe(false);
  });

  it("sends unpinned worktree tasks to the healthy agent, never the degraded one, even when the degraded one is idle", () => {
    const { state } = drive([
      [worktreeHello("a-degraded", full), 0],
      [worktreeHello("b-healthy"), 0],
      [{ type: "dispatch-requested", request: needsWorktree("T1") }, 10],
      [{ type: "dispatch-requested", request: needsWorktree("T2") }, 20],
      [{ type: "dispatch-requested", request: needsWorktree("T3") }, 30],
    ]);
    expect(state.agents.get("b-healthy")?.running.map((r) => r.task_id)).toEqual(["T1", "T2"]);
    expect(state.agents.get("a-degraded")?.running).toEqual([]);
    // The third waits for the healthy agent's slot: not refused, since another agent may take it.
    expect(state.pending.map((r) => r.assign.task_id)).toEqual(["T3"]);
    expect(state.lostNotices).toEqual([]);
    const freed = drive([[{ type: "released", agent: "b-healthy", taskId: "T1", attempt: 1 }, 40]], state);
    expect(freed.state.agents.get("b-healthy")?.running.map((r) => r.task_id)).toEqual(["T2", "T3"]);
  });
});

describe("the registry actor's answers to task rooms", () => {
  const SHA = "3f1c2a9b8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";
  const apply = (agent: string): RegistryEvent => ({
    type: "apply-requested",
    request: {
      type: "apply.request",
      agent,
      task_id: "T1",
      attempt: 2,
      repo: "/r",
      branch: "mesh/T1/2",
      base: SHA,
      commit: SHA,
    },
    requestId: "apply-1",
  });

  it("task-ended tells the connected agents that ran the task to release its worktrees, and answers which it told", () => {
    const { state } = drive([
      [hello("vm-1"), 0],
      [hello("vm-2"), 0],
      [{ type: "disconnected", agent: "vm-2", connectionId: "conn-vm-2" }, 5],
    ]);
    const ended = decideRegistry(
      state,
      { type: "task-ended", taskId: "T1", agents: ["vm-1", "vm-2", "ghost"], keep: 2 },
      at(10),
    );
    expect(ended.reply).toEqual({ told: ["vm-1"] });
    expect(ended.effects).toEqual([
      { kind: "send", connectionId: "conn-vm-1", message: { type: "worktrees.release", task_id: "T1", keep: 2 } },
    ]);
    expect(ended.state).toBe(state);
    const noKeep = decideRegistry(state, { type: "task-ended", taskId: "T1", agents: ["vm-1"] }, at(10));
    expect(noKeep.effects).toEqual([
      { kind: "send", connectionId: "conn-vm-1", message: { type: "worktrees.release", task_id: "T1" } },
    ]);
  });

  it("apply-requested asks the connected agent to merge under the room's request id, and refuses an offline one with agent_offline", () => {
    const { state } = drive([[hello("vm-1"), 0]]);
    const asked = decideRegistry(state, apply("vm-1"), at(10));
    expect(asked.reply).toEqual({ asked: "apply-1" });
    expect(asked.effects).toEqual([
      {
        kind: "ask-merge",
        connectionId: "conn-vm-1",
        agent: "vm-1",
        message: {
          type: "branch.merge",
          request_id: "apply-1",
          task_id: "T1",
          attempt: 2,
          repo: "/r",
          branch: "mesh/T1/2",
          base: SHA,
          commit: SHA,
        },
      },
    ]);
    const offline = decideRegistry(state, apply("vm-2"), at(10));
    expect(offline.effects).toEqual([]);
    expect(offline.reply).toMatchObject({ error: { code: "agent_offline" } });
    const gone = drive([[{ type: "disconnected", agent: "vm-1", connectionId: "conn-vm-1" }, 20]], state);
    expect(decideRegistry(gone.state, apply("vm-1"), at(30)).reply).toMatchObject({
      error: { code: "agent_offline", message: expect.stringContaining("attempt 2") },
    });
  });
});
