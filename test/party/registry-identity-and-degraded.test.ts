import { describe, expect, it } from "vitest";
import { decideRegistry, listAgents, type RegistryEvent } from "../../party/agent-registry/registry-actor.ts";
import { CloseCode, type DispatchRequest } from "../../protocol/index.ts";
import { again, at, drive, hello, request } from "./registry-actor-fixtures.ts";

describe("the registry actor", () => {
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
