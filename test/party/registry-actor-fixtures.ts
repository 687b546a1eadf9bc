import {
  decideRegistry,
  emptyRegistry,
  type RegistryContext,
  type RegistryEvent,
  type RegistryState,
} from "../../party/agent-registry/registry-actor.ts";
import type { AgentHello, DispatchRequest, ExecutorTier } from "../../protocol/index.ts";

/** Events and a driver for the registry actor's tests: agents' hellos, dispatch requests, a clock. */
export const HEARTBEAT_MS = 5000;
export const at = (now: number, startedAt = 0): RegistryContext => ({
  now,
  heartbeatMs: HEARTBEAT_MS,
  idleFlagS: 300,
  startedAt,
});

/** Agent `name`'s hello message: a vm of capacity 1 serving `tiers`. */
const agentHello = (name: string, tiers: ExecutorTier[], overrides: Partial<AgentHello>): AgentHello => ({
  type: "agent.hello",
  protocol_version: 1,
  name,
  kind: "vm",
  tiers,
  capacity: 1,
  version: "1",
  running: [],
  ...overrides,
});

export const hello = (
  name: string,
  tiers: ExecutorTier[] = ["sonnet"],
  overrides: Partial<AgentHello> = {},
): RegistryEvent => ({
  type: "hello-received",
  hello: agentHello(name, tiers, overrides),
  connectionId: `conn-${name}`,
  identity: {
    via: "enrollment",
    tokenName: "default",
    credential: `mesh-agent:${name}:secret`,
    credentialHash: `hash-${name}`,
  },
});
/** The same hello as the agent's own credential would bring it once enrolled (docs/agent-identity.md). */
export const again = (
  name: string,
  tiers: ExecutorTier[] = ["sonnet"],
  overrides: Partial<AgentHello> = {},
): RegistryEvent => ({
  type: "hello-received",
  hello: agentHello(name, tiers, overrides),
  connectionId: `conn-${name}`,
  identity: { via: "credential", agent: name, credentialHash: `hash-${name}` },
});
export const request = (
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

export function drive(
  events: Array<[RegistryEvent, number]>,
  state: RegistryState = emptyRegistry(),
): { state: RegistryState; last: ReturnType<typeof decideRegistry> } {
  let last = { state, effects: [] } as ReturnType<typeof decideRegistry>;
  for (const [event, now] of events) last = decideRegistry(last.state, event, at(now));
  return { state: last.state, last };
}
