// The registry's storage (docs/rooms.md "Stored records"): what a persist writes reads back the same,
// and a corrupt record is dropped and logged as a `corrupt` fault, never a crash.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  decideRegistry,
  emptyRegistry,
  type RegistryContext,
  type RegistryEvent,
  type RegistryState,
} from "../../party/agent-registry/registry-actor.ts";
import { loadRegistry, persistedWrites } from "../../party/agent-registry/registry-storage.ts";
import type { DispatchRequest } from "../../protocol/index.ts";
import { MapStorage } from "./map-storage.ts";

const ctx = (now: number): RegistryContext => ({ now, heartbeatMs: 5000, idleFlagS: 300, startedAt: 0 });
const hello = (name: string): RegistryEvent => ({
  type: "hello-received",
  hello: {
    type: "agent.hello",
    protocol_version: 1,
    name,
    kind: "vm",
    tiers: ["sonnet"],
    capacity: 1,
    version: "1",
    running: [],
  },
  connectionId: `conn-${name}`,
  identity: {
    via: "enrollment",
    tokenName: "default",
    credential: `mesh-agent:${name}:secret`,
    credentialHash: `hash-${name}`,
  },
});
const request = (taskId: string, tier: "sonnet" | "opus" = "sonnet"): DispatchRequest => ({
  type: "dispatch.request",
  assign: { type: "task.assign", task_id: taskId, attempt: 1, tier, prompt: "do it" },
  selector: { by: "any" },
  requested_at: 0,
});

/** Runs the events and stores every persist the actor asks for, as the room does. */
async function stored(events: RegistryEvent[]): Promise<{ storage: MapStorage; state: RegistryState }> {
  const storage = new MapStorage();
  let state = emptyRegistry();
  for (const [index, event] of events.entries()) {
    const decision = decideRegistry(state, event, ctx(index * 10));
    state = decision.state;
    for (const effect of decision.effects)
      if (effect.kind === "persist") await storage.put(persistedWrites(state, effect));
  }
  return { storage, state };
}

afterEach(() => vi.restoreAllMocks());

describe("the registry's storage", () => {
  it("reads back what it wrote: agents, the queue, hand-outs and lost notices", async () => {
    const { storage, state } = await stored([
      hello("vm-1"),
      { type: "dispatch-requested", request: request("T1") },
      { type: "dispatch-requested", request: request("T2", "opus") },
      { type: "released", agent: "vm-1", taskId: "T1", attempt: 1 },
    ]);
    const loaded = await loadRegistry(storage);
    expect(loaded.corrupt).toEqual([]);
    expect([...loaded.state.agents.values()]).toEqual([...state.agents.values()]);
    expect(loaded.state.pending).toEqual(state.pending);
    expect(loaded.state.assigned).toEqual(state.assigned);
    expect(loaded.state.lostNotices).toEqual(state.lostNotices);
    expect(loaded.state.pending.map((r) => r.assign.task_id)).toEqual(["T2"]);
    expect(loaded.state.lostNotices.map((n) => n.task_id)).toEqual(["T1"]);
  });

  it("drops a corrupt agent record and a corrupt queued request, logs each as corrupt, and keeps the rest", async () => {
    const { storage } = await stored([
      hello("vm-1"),
      hello("vm-2"),
      { type: "dispatch-requested", request: request("T1", "opus") },
    ]);
    storage.data.set("agent:vm-2", { name: "vm-2", capacity: "lots" });
    storage.data.set("pending", [
      { type: "dispatch.request", selector: { by: "any" } },
      ...(storage.data.get("pending") as unknown[]),
    ]);
    storage.data.set("lost-notices", "not a list");
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const loaded = await loadRegistry(storage);
    expect([...loaded.state.agents.keys()]).toEqual(["vm-1"]);
    expect(loaded.state.pending.map((r) => r.assign.task_id)).toEqual(["T1"]);
    expect(loaded.state.lostNotices).toEqual([]);
    expect(loaded.corrupt.map((fault) => [fault.code, fault.key])).toEqual([
      ["corrupt", "agent:vm-2"],
      ["corrupt", "pending[0]"],
      ["corrupt", "lost-notices"],
    ]);
    expect(logged).toHaveBeenCalledTimes(3);
  });
});
