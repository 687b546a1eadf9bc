import { describe, expect, it } from "vitest";
import { agentState, heartbeatExpired, pickAgent, pinnedRefusal } from "../../party/agent-registry/dispatch-picker.ts";
import type { AgentRecord, DispatchRequest } from "../../protocol/index.ts";

const agent = (name: string, overrides: Partial<AgentRecord> = {}): AgentRecord => ({
  name,
  kind: "vm",
  tiers: ["sonnet"],
  capacity: 1,
  version: "1",
  state: "online",
  registered_at: 0,
  last_heartbeat: 0,
  running: [],
  ...overrides,
});
const request = (overrides: Partial<DispatchRequest> = {}): DispatchRequest => ({
  type: "dispatch.request",
  assign: { type: "task.assign", task_id: "T", attempt: 1, tier: "sonnet", prompt: "p" },
  selector: { by: "any" },
  requested_at: 0,
  ...overrides,
});

describe("pickAgent", () => {
  it("picks only an online agent that serves the tier and has a free slot", () => {
    const agents = [
      agent("offline", { state: "offline" }),
      agent("stale", { state: "stale" }),
      agent("other-tier", { tiers: ["opus"] }),
      agent("full", { running: [{ task_id: "X", attempt: 1 }] }),
      agent("good"),
    ];
    expect(pickAgent(agents, request())?.name).toBe("good");
    expect(pickAgent(agents.slice(0, 4), request())).toBeNull();
  });

  it("prefers the least loaded agent", () => {
    const agents = [
      agent("busy", {
        capacity: 4,
        running: [
          { task_id: "A", attempt: 1 },
          { task_id: "B", attempt: 1 },
        ],
      }),
      agent("idle", { capacity: 4 }),
    ];
    expect(pickAgent(agents, request())?.name).toBe("idle");
  });

  it("honours a name, a kind, and a preferred kind with fallback", () => {
    const agents = [agent("vm-1"), agent("mac-1", { kind: "mac" })];
    expect(pickAgent(agents, request({ selector: { by: "name", name: "vm-1" } }))?.name).toBe("vm-1");
    expect(pickAgent(agents, request({ selector: { by: "kind", kind: "mac" } }))?.name).toBe("mac-1");
    expect(pickAgent(agents, request({ selector: { by: "prefer", kind: "mac" } }))?.name).toBe("mac-1");
    expect(pickAgent([agent("vm-1")], request({ selector: { by: "prefer", kind: "mac" } }))?.name).toBe("vm-1");
    expect(pickAgent([agent("vm-1")], request({ selector: { by: "kind", kind: "mac" } }))).toBeNull();
  });
});

describe("agentState", () => {
  it("is online while beats arrive, stale when one is late, offline without a socket, lost once given up", () => {
    expect(agentState(true, 0, 10_000, 5000)).toBe("online");
    expect(agentState(true, 0, 10_001, 5000)).toBe("stale");
    expect(agentState(false, 0, 0, 5000)).toBe("offline");
    expect(agentState(true, 0, 0, 5000, 1)).toBe("lost");
  });
});

describe("heartbeatExpired", () => {
  it("gives an agent up after three missed beats, counting from the registry's start after a restart", () => {
    expect(heartbeatExpired(0, 0, 15_000, 5000)).toBe(false);
    expect(heartbeatExpired(0, 0, 15_001, 5000)).toBe(true);
    expect(heartbeatExpired(0, 60_000, 70_000, 5000)).toBe(false);
  });
});

describe("exclusions", () => {
  it("gives a retry to an agent that lost the task only when no other agent serves the tier", () => {
    // Another agent serves the tier: the lost one is passed over, even while the other is busy.
    expect(pickAgent([agent("lost-one"), agent("other")], request({ exclude_agents: ["lost-one"] }))?.name).toBe(
      "other",
    );
    expect(
      pickAgent(
        [agent("lost-one"), agent("other", { running: [{ task_id: "X", attempt: 1 }] })],
        request({ exclude_agents: ["lost-one"] }),
      ),
    ).toBeNull();
    // Pinned to it by name, or the only agent of the tier: it gets the retry once it is back.
    expect(
      pickAgent(
        [agent("lost-one"), agent("other")],
        request({ exclude_agents: ["lost-one"], selector: { by: "name", name: "lost-one" } }),
      )?.name,
    ).toBe("lost-one");
    expect(
      pickAgent([agent("lost-one"), agent("other", { tiers: ["opus"] })], request({ exclude_agents: ["lost-one"] }))
        ?.name,
    ).toBe("lost-one");
    expect(
      pickAgent(
        [agent("lost-one", { state: "lost" })],
        request({ exclude_agents: ["lost-one"], selector: { by: "name", name: "lost-one" } }),
      ),
    ).toBeNull();
  });
});

describe("pinnedRefusal (docs/faults.md)", () => {
  const why = "the worktrees directory /x is not writable (EROFS); make it writable";
  const degraded = agent("vm-1", { capabilities: { worktree: true }, degraded: { worktree: why } });
  const pinned = request({ selector: { by: "name", name: "vm-1" }, needs: ["worktree"] });

  it("refuses a worktree task pinned to a connected agent that cannot make worktrees now, with its reason", () => {
    expect(pinnedRefusal(degraded, pinned)).toContain(`agent vm-1 cannot make the attempt's worktree now: ${why}`);
    expect(pinnedRefusal({ ...degraded, state: "stale" }, pinned)).toBeDefined();
  });

  it("lets a request wait when it is not pinned, needs no worktree, or its agent is well, away, or could never serve it", () => {
    expect(pinnedRefusal(degraded, { ...pinned, selector: { by: "any" } })).toBeUndefined();
    expect(pinnedRefusal(degraded, { ...pinned, selector: { by: "kind", kind: "vm" } })).toBeUndefined();
    expect(pinnedRefusal(degraded, request({ selector: { by: "name", name: "vm-1" } }))).toBeUndefined();
    expect(pinnedRefusal(agent("vm-1", { capabilities: { worktree: true } }), pinned)).toBeUndefined();
    expect(pinnedRefusal({ ...degraded, state: "offline" }, pinned)).toBeUndefined();
    expect(pinnedRefusal({ ...degraded, tiers: ["opus"] }, pinned)).toBeUndefined();
    expect(pinnedRefusal({ ...degraded, capabilities: { worktree: false } }, pinned)).toBeUndefined();
    expect(pinnedRefusal(undefined, pinned)).toBeUndefined();
  });
});
