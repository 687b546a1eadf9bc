import { decideHello } from "./agent-hello.ts";
import { decideDisconnect, decideHeartbeat } from "./agent-presence.ts";
import { decideRevoke } from "./agent-revocation.ts";
import { decideDispatch, decideRelease, decideWithdrawal } from "./dispatch-decisions.ts";
import type { RegistryContext, RegistryDecision, RegistryEvent, RegistryState } from "./registry-state.ts";
import { decideApply, decideNoticesDelivered, decideTaskEnded } from "./task-room-decisions.ts";
import { decideWatchdogTick } from "./watchdog-tick.ts";

export * from "./registry-state.ts";

/**
 * The registry actor: a pure function of state and event returning effects. It routes each event to the file that
 * decides it (docs/agent-registry.md).
 */
export function decideRegistry(state: RegistryState, event: RegistryEvent, ctx: RegistryContext): RegistryDecision {
  switch (event.type) {
    case "hello-received":
      return decideHello(state, event, ctx);
    case "revoke-requested":
      return decideRevoke(state, event, ctx);
    case "heartbeat-received":
      return decideHeartbeat(state, event, ctx);
    case "released":
      return decideRelease(state, event, ctx);
    case "disconnected":
      return decideDisconnect(state, event);
    case "dispatch-requested":
      return decideDispatch(state, event, ctx);
    case "dispatch-withdrawn":
      return decideWithdrawal(state, event);
    case "task-ended":
      return decideTaskEnded(state, event);
    case "apply-requested":
      return decideApply(state, event);
    case "watchdog-ticked":
      return decideWatchdogTick(state, ctx);
    case "notices-delivered":
      return decideNoticesDelivered(state, event);
  }
}
