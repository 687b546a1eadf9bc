// The registry's requests to agents (docs/delivery.md): a delivery that finds its agent offline is
// answered agent_offline, kept, and sent again when the agent says hello, its outcome going to the
// task room; an apply's answer is matched by its request id. Plain in-memory ports: no room, no socket.
import { describe, expect, it } from "vitest";
import { AgentRequests } from "../../party/agent-registry/agent-requests.ts";
import type { DeliveryRequest, RegistryToAgent, TaskDelivered } from "../../protocol/index.ts";

const SHA = "3f1c2a9b8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";
const request = (taskId: string): DeliveryRequest => ({
  type: "delivery.request",
  agent: "vm-1",
  task_id: taskId,
  attempt: 1,
  mode: "push",
  repo: "https://github.com/acme/p.git",
  source: "/m.git",
  commit: SHA,
  remote_branch: `mesh/${taskId}/1-codex`,
});

function harness(): {
  requests: AgentRequests;
  online: Set<string>;
  sent: RegistryToAgent[];
  told: Array<[string, TaskDelivered]>;
} {
  const online = new Set<string>();
  const sent: RegistryToAgent[] = [];
  const told: Array<[string, TaskDelivered]> = [];
  const requests = new AgentRequests({
    connected: (agent) => online.has(agent),
    send: (_agent, message) => void sent.push(message),
    toTask: async (taskId, message) => void told.push([taskId, message]),
  });
  return { requests, online, sent, told };
}

describe("requests to agents", () => {
  it("an online agent gets branch.deliver, and its answer is the outcome", async () => {
    const { requests, online, sent } = harness();
    online.add("vm-1");
    const outcome = requests.deliver(request("T1"));
    const message = sent[0];
    expect(message).toMatchObject({ type: "branch.deliver", task_id: "T1", remote_branch: "mesh/T1/1-codex" });
    if (message?.type !== "branch.deliver") return;
    requests.answerDelivery("vm-2", message.request_id, { ok: true, remote_branch: "x", pushed_commit: SHA });
    requests.answerDelivery("vm-1", message.request_id, {
      ok: true,
      remote_branch: "mesh/T1/1-codex",
      pushed_commit: SHA,
    });
    expect(await outcome).toEqual({ ok: true, remote_branch: "mesh/T1/1-codex", pushed_commit: SHA });
  });

  it("an offline agent: agent_offline now, the delivery sent on its hello, the late outcome told to the task room", async () => {
    const { requests, online, sent, told } = harness();
    expect(await requests.deliver(request("T1"))).toMatchObject({ ok: false, code: "agent_offline" });
    // Asked twice for one task while offline: sent once.
    await requests.deliver(request("T1"));
    expect(sent).toEqual([]);
    online.add("vm-1");
    requests.reconnected("vm-1");
    expect(sent).toHaveLength(1);
    const message = sent[0];
    if (message?.type !== "branch.deliver") throw new Error("no branch.deliver");
    requests.answerDelivery("vm-1", message.request_id, {
      ok: true,
      remote_branch: "mesh/T1/1-codex",
      pushed_commit: SHA,
    });
    await new Promise((done) => setTimeout(done, 0));
    expect(told).toEqual([
      [
        "T1",
        {
          type: "task.delivered",
          attempt: 1,
          mode: "push",
          outcome: { ok: true, remote_branch: "mesh/T1/1-codex", pushed_commit: SHA },
        },
      ],
    ]);
    // Nothing is sent again at the next hello.
    requests.reconnected("vm-1");
    expect(sent).toHaveLength(1);
  });

  it("a socket that closes mid-delivery answers agent_offline at once", async () => {
    const { requests, online } = harness();
    online.add("vm-1");
    const outcome = requests.deliver(request("T1"));
    requests.dropAgent("vm-1");
    expect(await outcome).toMatchObject({ ok: false, code: "agent_offline" });
  });

  it("an apply's branch.merged, from the agent asked, is the outcome of its request id; a closed socket answers at once", async () => {
    const { requests } = harness();
    const first = requests.applyRequestId();
    const second = requests.applyRequestId();
    expect(second).not.toBe(first);
    requests.expectMerge("vm-1", first);
    requests.expectMerge("vm-1", second);
    requests.answerApply("vm-2", first, { ok: true, commit: "other", fast_forward: true, already_applied: false });
    requests.answerApply("vm-1", first, { ok: true, commit: SHA, fast_forward: true, already_applied: false });
    expect(await requests.mergeOutcome(first)).toEqual({
      ok: true,
      commit: SHA,
      fast_forward: true,
      already_applied: false,
    });
    requests.dropAgent("vm-1");
    expect(await requests.mergeOutcome(second)).toMatchObject({ ok: false, code: "internal" });
  });
});
