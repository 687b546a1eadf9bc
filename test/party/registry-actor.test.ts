import { describe, expect, it } from "vitest";
import {
  decideRegistry,
  listAgents,
  type RegistryEvent,
  restoredRegistry,
  servedTiers,
} from "../../party/agent-registry/registry-actor.ts";
import { CloseCode } from "../../protocol/index.ts";
import { again, at, drive, HEARTBEAT_MS, hello, request } from "./registry-actor-fixtures.ts";

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
